"""Structured logs: one JSON object per line, carrying the request id of whatever caused it.

Only the fields listed in `_SAFE_EXTRAS` travel from a record's `extra` into the output: ids,
kinds, counts and timings. A record's message is the format string and its arguments, which
by the rules of this codebase never contain transcript text or keys.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_SAFE_EXTRAS = (
    "turn_id",
    "session_id",
    "kind",
    "stage",
    "role",
    "status",
    "method",
    "path",
    "duration_ms",
    "attempt",
)
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def new_request_id(incoming: str | None) -> str:
    """Keep a well-formed id from the proxy in front; otherwise make one."""
    if incoming and _INCOMING_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for name in _SAFE_EXTRAS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = request_id_var.get()
        return f"{line} [request {request_id}]" if request_id else line


# Loggers that write SQL parameters or request bodies at DEBUG or INFO: transcript text would
# reach the logs through them, so they never go below WARNING whatever the log level.
DATA_LOGGERS = (
    "sqlalchemy.engine",  # SQL with parameters
    "sqlalchemy.pool",
    "aiosqlite",  # every statement with its parameters, at DEBUG
    "asyncpg",
    "sse_starlette",  # every event sent to the browser, at DEBUG
    "httpcore",
    "multipart",
    "python_multipart",
)


def configure_logging(
    level: str, fmt: Literal["json", "text"], *, stream: TextIO | None = None
) -> None:
    """Route every logger (ours, uvicorn's, httpx's) through one handler on stderr."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in DATA_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # Our access log (app.observability.requests) replaces uvicorn's, which lacks request ids.
    logging.getLogger("uvicorn.access").disabled = True
