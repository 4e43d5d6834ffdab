"""Settings: the only module that reads the environment.

Every setting is documented in `.env.example`; `tests/test_settings_documented.py` fails when
one is not. Nothing here connects, migrates or fetches: settings are plain values.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

Provider = Literal["scripted", "openai_compat", "anthropic"]
AuthBackend = Literal["dev", "oidc", "proxy"]


class FallbackEndpoint(BaseModel):
    """Another server for the same role, tried in order when the ones before it fail."""

    provider: Provider | None = None  # None: the role's own provider
    base_url: str = ""
    api_key: SecretStr = SecretStr("")
    model: str = ""


class RoleSettings(BaseModel):
    """How one role (the simulated client, or the evaluator) reaches its model."""

    provider: Provider = "scripted"
    base_url: str = ""
    api_key: SecretStr = SecretStr("")
    model: str = ""
    connect_timeout: float = Field(default=5.0, gt=0)
    first_token_timeout: float = Field(default=30.0, gt=0)
    idle_timeout: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=2, ge=0, le=10)
    max_tokens: int = Field(default=400, ge=16)
    temperature: float = Field(default=0.8, ge=0, le=2)
    max_connections: int = Field(default=512, ge=1)
    scripted_delay_ms: int = Field(default=25, ge=0)
    # For chat templates that demand one leading system message and strict user/assistant
    # alternation (Mistral, Gemma and others on vLLM or llama.cpp). See app/llm/layout.py.
    strict_roles: bool = False
    # Failover: tried in order when an endpoint fails before the reply's first token.
    fallbacks: list[FallbackEndpoint] = []

    @model_validator(mode="after")
    def _remote_needs_endpoint(self) -> RoleSettings:
        if self.provider == "openai_compat" and not self.base_url:
            raise ValueError(
                "provider openai_compat needs base_url, for example https://api.openai.com/v1 "
                "or http://127.0.0.1:11434/v1 for Ollama"
            )
        if self.provider != "scripted" and not self.model:
            raise ValueError(f"provider {self.provider} needs model, the model name to request")
        for index, fallback in enumerate(self.fallbacks):
            provider = fallback.provider or self.provider
            if provider == "scripted":
                raise ValueError(f"fallbacks[{index}] needs provider openai_compat or anthropic")
            if provider == "openai_compat" and not fallback.base_url:
                raise ValueError(f"fallbacks[{index}] needs base_url (provider openai_compat)")
            if not (fallback.model or self.model):
                raise ValueError(f"fallbacks[{index}] needs model, the model name to request")
        return self

    def endpoints(self) -> list[RoleSettings]:
        """This role's endpoints in failover order, each as complete settings of its own."""
        resolved = [self.model_copy(update={"fallbacks": []})]
        for fallback in self.fallbacks:
            update = {
                "provider": fallback.provider or self.provider,
                "base_url": fallback.base_url,
                "api_key": fallback.api_key,
                "model": fallback.model or self.model,
                "fallbacks": [],
            }
            resolved.append(self.model_copy(update=update))
        return resolved


class ClientRoleSettings(RoleSettings):
    """The simulated client: streamed, a little creative."""


class EvaluatorRoleSettings(RoleSettings):
    """The judge: deterministic, room for a full critique, no need to pace the demo."""

    temperature: float = Field(default=0.0, ge=0, le=2)
    max_tokens: int = Field(default=900, ge=16)
    scripted_delay_ms: int = Field(default=0, ge=0)


def _is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """All configuration, read from `ALLIANCE_*` variables and an optional `.env` file."""

    model_config = SettingsConfigDict(
        env_prefix="ALLIANCE_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    environment: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    database_url: str = "sqlite+aiosqlite:///./data/alliance.db"
    secret_key: SecretStr = SecretStr("dev-only-secret-change-me")
    auth_backend: AuthBackend = "dev"
    allow_dev_auth_remote: bool = False
    session_cookie_secure: bool = False
    # Production refuses a session cookie that may travel over plain HTTP unless this is set.
    allow_insecure_session_cookie: bool = False
    session_max_age_hours: float = Field(default=12.0, gt=0)
    # Institutional sign-in: OpenID Connect, or trusted headers from a reverse proxy.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: SecretStr = SecretStr("")
    oidc_scopes: str = "openid profile email"
    oidc_redirect_url: str = ""
    oidc_post_logout_redirect_url: str = ""
    oidc_name_claim: str = "name"
    oidc_role_claim: str = "roles"
    oidc_cohort_claim: str = ""
    role_admin_values: list[str] = ["admin"]
    role_tutor_values: list[str] = ["tutor"]
    role_trainee_values: list[str] = []
    cohort_prefix: str = ""
    proxy_trusted_addresses: list[str] = ["127.0.0.1/32", "::1/128"]
    proxy_user_header: str = "X-Forwarded-User"
    proxy_name_header: str = "X-Forwarded-Preferred-Username"
    proxy_groups_header: str = "X-Forwarded-Groups"
    proxy_logout_url: str = ""
    retention_days: int = Field(default=0, ge=0)
    personas_dir: Path = PROJECT_ROOT / "personas"
    prompts_dir: Path = PROJECT_ROOT / "prompts"
    planned_minutes: int = Field(default=50, ge=5, le=180)
    max_turn_chars: int = Field(default=4000, ge=100)
    history_turns: int = Field(default=12, ge=1)
    # The simulated client's own rating in the session report: written offline in the persona's
    # voice, or asked of the client's model once the session has ended.
    report_client_voice: Literal["persona", "model"] = "persona"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    # Cost and fairness, per user: tokens per UTC day (0: no limit) and replies at once.
    daily_token_budget: int = Field(default=0, ge=0)
    max_concurrent_turns: int = Field(default=2, ge=0)
    # A reply still streaming after this long is stopped; other replicas rely on the bound.
    turn_max_seconds: float = Field(default=180.0, ge=10)
    # Complete words the character guard holds back from the relay (0: relay at once).
    guard_holdback_words: int = Field(default=0, ge=0, le=20)
    readiness_cache_seconds: float = Field(default=5.0, ge=0)
    metrics_enabled: bool = True
    client: ClientRoleSettings = ClientRoleSettings()
    evaluator: EvaluatorRoleSettings = EvaluatorRoleSettings()

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "database_url must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return value

    @field_validator("proxy_trusted_addresses")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"proxy_trusted_addresses: {item!r} is not an address or network; "
                    "use forms like 10.0.0.5 or 10.0.0.0/24"
                ) from None
        return value

    @model_validator(mode="after")
    def _backend_complete(self) -> Settings:
        if self.auth_backend == "oidc":
            missing = [
                name
                for name, value in (
                    ("ALLIANCE_OIDC_ISSUER", self.oidc_issuer),
                    ("ALLIANCE_OIDC_CLIENT_ID", self.oidc_client_id),
                )
                if not value
            ]
            if missing:
                raise ValueError(
                    "auth_backend oidc needs " + " and ".join(missing) + "; see .env.example"
                )
        if self.auth_backend == "proxy" and not self.proxy_trusted_addresses:
            raise ValueError(
                "auth_backend proxy needs ALLIANCE_PROXY_TRUSTED_ADDRESSES, the address of the "
                "reverse proxy that signs people in"
            )
        return self

    @model_validator(mode="after")
    def _safe_outside_development(self) -> Settings:
        if self.environment == "production" and self.secret_key.get_secret_value() in (
            "",
            "dev-only-secret-change-me",
        ):
            raise ValueError("secret_key must be set to a long random value in production")
        if (
            self.environment == "production"
            and not self.session_cookie_secure
            and not self.allow_insecure_session_cookie
        ):
            raise ValueError(
                "session_cookie_secure is false in production, so the sign-in cookie could be "
                "sent over plain HTTP and copied. Serve the service over HTTPS and set "
                "ALLIANCE_SESSION_COOKIE_SECURE=true; only for a trial over plain HTTP on a "
                "trusted machine, set ALLIANCE_ALLOW_INSECURE_SESSION_COOKIE=true instead"
            )
        if (
            self.auth_backend == "dev"
            and not _is_loopback(self.host)
            and not self.allow_dev_auth_remote
        ):
            raise ValueError(
                f"the dev sign-in lets anyone choose a name; it is refused on host {self.host!r}. "
                "Bind to 127.0.0.1, or set ALLIANCE_ALLOW_DEV_AUTH_REMOTE=true on a trusted network"
            )
        return self

    @property
    def offline(self) -> bool:
        return self.client.provider == "scripted" and self.evaluator.provider == "scripted"


@lru_cache
def get_settings() -> Settings:
    return Settings()
