"""A database error never carries what the statement was storing.

SQLAlchemy puts a failed statement's parameters into its exception's message, and the message
reaches the logs (a run that fails is logged with its traceback). The parameters of the turn's
statements are transcript text, so the engine is opened with them hidden.
"""

from __future__ import annotations

import logging
import traceback

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.storage.db import open_database

WORDS = "I have not told anyone about the panic attacks at work"


async def test_a_failed_statement_does_not_show_its_parameters(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    database = open_database(database_url)
    try:
        await database.upgrade()
        async with database.session() as db:
            with pytest.raises(DBAPIError) as raised:
                # Fails on both databases, with a transcript's words among its parameters.
                await db.execute(
                    text("UPDATE turns SET no_such_column = :words WHERE id = :id"),
                    {"words": WORDS, "id": "t1"},
                )
        logging.getLogger("app.test").error("storing failed", exc_info=raised.value)
    finally:
        await database.close()
    shown = "".join(traceback.format_exception(raised.value))
    assert "no_such_column" in shown  # the statement is named, so the error can be traced
    assert WORDS not in shown
    assert WORDS not in caplog.text
    assert "hidden due to hide_parameters" in str(raised.value)
