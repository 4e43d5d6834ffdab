"""Fixtures for the fault campaign: retry waits are recorded instead of slept."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _retry_waits_recorded(sleeps: list[float]) -> None:
    """Every test here records retry waits instead of sleeping (see `sleeps`)."""
