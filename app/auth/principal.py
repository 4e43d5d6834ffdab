"""Who is asking, and what they may read. Every transcript read goes through `can_read_session`.

A trainee reads their own sessions, a tutor also those of the trainees in their cohorts, and an
admin every session. Only the trainee who holds a session may write to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from app.errors import NotFound
from app.storage.tables import PracticeSession

Role = Literal["trainee", "tutor", "admin"]
ROLES: tuple[Role, ...] = ("trainee", "tutor", "admin")


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    display_name: str
    role: Role
    csrf_token: str
    cohort_ids: frozenset[str] = field(default=frozenset())
    # For a tutor: the trainees in their cohorts, resolved once per request.
    reviewable_user_ids: frozenset[str] = field(default=frozenset())
    # Other people's sessions read during this request: (session id, owner id), for the audit
    # log written when the request ends.
    reads: list[tuple[str, str]] = field(default_factory=list, compare=False)

    @property
    def reviews(self) -> bool:
        return self.role in ("tutor", "admin")


def can_read_user(principal: Principal, user_id: str) -> bool:
    if principal.role == "admin" or user_id == principal.user_id:
        return True
    return principal.role == "tutor" and user_id in principal.reviewable_user_ids


def can_read_session(principal: Principal, session: PracticeSession) -> bool:
    return can_read_user(principal, session.user_id)


def ensure_can_read(principal: Principal, session: PracticeSession | None) -> PracticeSession:
    """The session, if this principal may see it. Others get the same answer as a missing one,
    so that identifiers cannot be probed."""
    if session is None or not can_read_session(principal, session):
        raise NotFound("That session does not exist, or it is not yours.")
    if session.user_id != principal.user_id:
        principal.reads.append((session.id, session.user_id))
    return session


def ensure_can_write(principal: Principal, session: PracticeSession | None) -> PracticeSession:
    """Only the trainee who holds a session may add turns to it."""
    if session is None or session.user_id != principal.user_id:
        raise NotFound("That session does not exist, or it is not yours.")
    return session


def as_role(value: str) -> Role:
    for role in ROLES:
        if value == role:
            return role
    return "trainee"
