"""Who is asking, and what they may read. Every transcript read goes through `can_read_session`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.errors import NotFound
from app.storage.tables import PracticeSession

Role = Literal["trainee", "tutor", "admin"]


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    display_name: str
    role: Role
    csrf_token: str


def can_read_session(principal: Principal, session: PracticeSession) -> bool:
    return principal.role == "admin" or session.user_id == principal.user_id


def ensure_can_read(principal: Principal, session: PracticeSession | None) -> PracticeSession:
    """The session, if this principal may see it. Others get the same answer as a missing one,
    so that identifiers cannot be probed."""
    if session is None or not can_read_session(principal, session):
        raise NotFound("That session does not exist, or it is not yours.")
    return session


def ensure_can_write(principal: Principal, session: PracticeSession | None) -> PracticeSession:
    """Only the trainee who holds a session may add turns to it."""
    if session is None or session.user_id != principal.user_id:
        raise NotFound("That session does not exist, or it is not yours.")
    return session
