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
AuthBackend = Literal["dev"]


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

    @model_validator(mode="after")
    def _remote_needs_endpoint(self) -> RoleSettings:
        if self.provider == "openai_compat" and not self.base_url:
            raise ValueError(
                "provider openai_compat needs base_url, for example https://api.openai.com/v1 "
                "or http://127.0.0.1:11434/v1 for Ollama"
            )
        if self.provider != "scripted" and not self.model:
            raise ValueError(f"provider {self.provider} needs model, the model name to request")
        return self


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
    session_max_age_hours: float = Field(default=12.0, gt=0)
    personas_dir: Path = PROJECT_ROOT / "personas"
    prompts_dir: Path = PROJECT_ROOT / "prompts"
    planned_minutes: int = Field(default=50, ge=5, le=180)
    max_turn_chars: int = Field(default=4000, ge=100)
    history_turns: int = Field(default=12, ge=1)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
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

    @model_validator(mode="after")
    def _safe_outside_development(self) -> Settings:
        if self.environment == "production" and self.secret_key.get_secret_value() in (
            "",
            "dev-only-secret-change-me",
        ):
            raise ValueError("secret_key must be set to a long random value in production")
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
