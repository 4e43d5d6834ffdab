"""Who the sign-in says someone is: subject, name, role and cohorts, from claims or headers.

Every backend turns what its provider asserts into an `Identity` here, so role and cohort
mapping is the same for OpenID Connect and for a trusted proxy. A missing or unacceptable
assertion raises `AccessDenied` with a message the person can take to their administrator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.auth.principal import Role
from app.errors import AllianceError
from app.settings import Settings

_MISSING = object()


class AccessDenied(AllianceError):
    """The provider signed the person in, but this service cannot let them in."""

    status_code = 403
    kind = "access_denied"


@dataclass(frozen=True, slots=True)
class Identity:
    subject: str
    display_name: str
    role: Role
    cohorts: tuple[str, ...] = field(default=())
    id_token: str | None = None


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted claim path (`realm_access.roles`), or None.

    A key that itself contains dots (`https://example.edu/roles`) is matched whole first.
    """
    if not path:
        return None
    if path in claims:
        return claims[path]
    head, dot, rest = path.partition(".")
    if not dot:
        return None
    inner = claims.get(head, _MISSING)
    if isinstance(inner, Mapping):
        return claim_at(inner, rest)
    return None


def as_values(value: Any) -> list[str]:
    """A claim or header as a list of strings: lists stay lists, text splits on , and ;."""
    if value is None:
        return []
    if isinstance(value, str):
        parts = value.replace(";", ",").split(",")
        return [p.strip() for p in parts if p.strip()]
    if isinstance(value, Iterable) and not isinstance(value, Mapping | bytes):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value)]


def role_for(values: list[str], settings: Settings, *, source: str) -> Role:
    """Admin beats tutor beats trainee; with a trainee list set, anyone unlisted is refused."""
    held = {v.casefold() for v in values}

    def has(wanted: list[str]) -> bool:
        return any(w.casefold() in held for w in wanted)

    if has(settings.role_admin_values):
        return "admin"
    if has(settings.role_tutor_values):
        return "tutor"
    if not settings.role_trainee_values or has(settings.role_trainee_values):
        return "trainee"
    raise AccessDenied(
        f"Your account has none of the roles this service accepts (it looked in {source} for "
        f"one of {', '.join(settings.role_trainee_values)}). Ask your administrator to give "
        "you access."
    )


def cohorts_for(values: list[str], settings: Settings) -> tuple[str, ...]:
    """Cohort names from claim values; role values are never cohorts (one `groups` claim often
    carries both)."""
    prefix = settings.cohort_prefix
    roles = {
        v.casefold()
        for v in (
            *settings.role_admin_values,
            *settings.role_tutor_values,
            *settings.role_trainee_values,
        )
    }
    names = [v.removeprefix(prefix) for v in values if v.startswith(prefix)] if prefix else values
    return tuple(sorted({n[:120] for n in names if n and n.casefold() not in roles}))


def from_claims(claims: Mapping[str, Any], settings: Settings, *, id_token: str) -> Identity:
    """Map OpenID Connect claims (ID token merged with userinfo) to an identity."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise AccessDenied("Your sign-in did not say who you are (the 'sub' claim is missing).")
    role_claim = settings.oidc_role_claim
    if role_claim:
        raw_roles = claim_at(claims, role_claim)
        if raw_roles is None:
            raise AccessDenied(
                f"Your sign-in did not include the '{role_claim}' claim, which says whether you "
                "are a trainee, tutor or administrator. Ask your administrator to release it to "
                "this service."
            )
        role = role_for(as_values(raw_roles), settings, source=f"the '{role_claim}' claim")
    else:
        role = role_for([], settings, source="the sign-in")
    cohorts = cohorts_for(as_values(claim_at(claims, settings.oidc_cohort_claim)), settings)
    name = next(
        (
            str(v)
            for v in (
                claim_at(claims, settings.oidc_name_claim),
                claims.get("preferred_username"),
                claims.get("email"),
            )
            if isinstance(v, str) and v.strip()
        ),
        subject,
    )
    return Identity(
        subject="oidc:" + subject,
        display_name=" ".join(name.split())[:120],
        role=role,
        cohorts=cohorts,
        id_token=id_token,
    )
