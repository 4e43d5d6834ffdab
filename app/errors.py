"""The exception hierarchy, and its mapping to HTTP statuses.

    AllianceError                 message a person can act on; `retryable`
    ├── LLMError                  anything between us and a model
    │   ├── LLMAuthError          401/403: the key or permissions are wrong (not retryable)
    │   ├── LLMBadRequest         400/404/422: model name or request rejected (not retryable)
    │   ├── LLMRateLimited        429: `retry_after` seconds when the server says
    │   ├── LLMUnavailable        5xx, refused connection, DNS failure
    │   ├── LLMTimeout            connect, first token or idle gap took too long
    │   ├── LLMStreamInterrupted  the stream broke after it had started
    │   └── LLMBadResponse        the server sent something we cannot read
    ├── PersonaError              a persona file is invalid: names file, field and fix
    ├── NotFound                  404
    ├── Forbidden                 403
    ├── Unauthenticated           401
    ├── Conflict                  409
    └── InvalidInput              422

Messages never contain transcript text or secrets: they are safe to log and to show.
SSE errors are encoded in `app.api.events`; HTTP errors in `app.main`.
"""

from __future__ import annotations


class AllianceError(Exception):
    """Base class. `message` is written for the person who sees it."""

    status_code = 500
    kind = "internal"
    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LLMError(AllianceError):
    status_code = 502
    kind = "llm"
    retryable = True


class LLMAuthError(LLMError):
    kind = "llm_auth"
    retryable = False


class LLMBadRequest(LLMError):
    kind = "llm_bad_request"
    retryable = False


class LLMRateLimited(LLMError):
    kind = "llm_rate_limited"
    status_code = 503

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LLMUnavailable(LLMError):
    kind = "llm_unavailable"
    status_code = 503


class LLMTimeout(LLMError):
    kind = "llm_timeout"
    status_code = 504


class LLMStreamInterrupted(LLMError):
    kind = "llm_interrupted"


class LLMBadResponse(LLMError):
    kind = "llm_bad_response"


class PersonaError(AllianceError):
    """One or more problems in persona files; each names the file, the field and the fix."""

    status_code = 422
    kind = "persona_invalid"

    def __init__(self, problems: list[PersonaProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class PersonaProblem:
    __slots__ = ("field", "file", "fix")

    def __init__(self, *, file: str, field: str, fix: str) -> None:
        self.file = file
        self.field = field
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.fix}"

    def __repr__(self) -> str:
        return f"PersonaProblem({self})"


class NotFound(AllianceError):
    status_code = 404
    kind = "not_found"


class Forbidden(AllianceError):
    status_code = 403
    kind = "forbidden"


class Unauthenticated(AllianceError):
    status_code = 401
    kind = "unauthenticated"


class Conflict(AllianceError):
    status_code = 409
    kind = "conflict"


class InvalidInput(AllianceError):
    status_code = 422
    kind = "invalid_input"
