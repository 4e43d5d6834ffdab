"""Settings: every one documented, defaults safe, bad values refused with a usable message."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel, ValidationError

from app.settings import PROJECT_ROOT, Settings


def _env_names(model: type[BaseModel], prefix: str) -> set[str]:
    names: set[str] = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= _env_names(annotation, f"{prefix}{name.upper()}__")
        else:
            names.add(f"{prefix}{name.upper()}")
    return names


def test_every_setting_is_documented_in_env_example() -> None:
    documented = set(
        re.findall(
            r"^#?\s*(ALLIANCE_[A-Z0-9_]+)=", (PROJECT_ROOT / ".env.example").read_text(), re.M
        )
    )
    expected = _env_names(Settings, "ALLIANCE_")
    assert expected - documented == set(), "undocumented settings"
    assert documented - expected == set(), ".env.example names settings that do not exist"


def test_defaults_run_offline_on_sqlite_with_dev_sign_in() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.offline
    assert settings.database_url.startswith("sqlite+aiosqlite://")
    assert settings.auth_backend == "dev"
    assert settings.host == "127.0.0.1"


def test_roles_are_configured_separately(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLIANCE_CLIENT__PROVIDER", "openai_compat")
    monkeypatch.setenv("ALLIANCE_CLIENT__BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("ALLIANCE_CLIENT__MODEL", "llama3.1:8b")
    monkeypatch.setenv("ALLIANCE_EVALUATOR__PROVIDER", "anthropic")
    monkeypatch.setenv("ALLIANCE_EVALUATOR__MODEL", "claude-sonnet-4-5")
    monkeypatch.setenv("ALLIANCE_EVALUATOR__API_KEY", "sk-ant-secret")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.client.model == "llama3.1:8b"
    assert settings.evaluator.provider == "anthropic"
    # The judge keeps its own defaults when only some of its settings are given.
    assert settings.evaluator.temperature == 0.0
    assert settings.client.temperature == 0.8
    assert "sk-ant-secret" not in repr(settings)


def test_remote_provider_without_model_is_refused() -> None:
    with pytest.raises(ValidationError, match="needs model"):
        Settings(_env_file=None, client={"provider": "anthropic"})  # type: ignore[call-arg, arg-type]


def test_dev_sign_in_refused_on_a_public_address() -> None:
    with pytest.raises(ValidationError, match="ALLOW_DEV_AUTH_REMOTE"):
        Settings(_env_file=None, host="0.0.0.0")  # type: ignore[call-arg]
    allowed = Settings(_env_file=None, host="0.0.0.0", allow_dev_auth_remote=True)  # type: ignore[call-arg]
    assert allowed.host == "0.0.0.0"


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="secret_key"):
        Settings(_env_file=None, environment="production")  # type: ignore[call-arg]


def test_production_refuses_a_cookie_that_may_travel_over_plain_http() -> None:
    secret = "x" * 64
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, environment="production", secret_key=secret)  # type: ignore[call-arg]
    message = str(refused.value)
    # The message names the setting and both ways out.
    assert "session_cookie_secure" in message
    assert "ALLIANCE_SESSION_COOKIE_SECURE=true" in message
    assert "ALLIANCE_ALLOW_INSECURE_SESSION_COOKIE=true" in message

    secure = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="production",
        secret_key=secret,
        session_cookie_secure=True,
    )
    assert secure.session_cookie_secure
    trial = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="production",
        secret_key=secret,
        allow_insecure_session_cookie=True,
    )
    assert not trial.session_cookie_secure
    # Development keeps plain HTTP working without any override.
    assert not Settings(_env_file=None).session_cookie_secure  # type: ignore[call-arg]


def test_the_insecure_cookie_override_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALLIANCE_ENVIRONMENT", "production")
    monkeypatch.setenv("ALLIANCE_SECRET_KEY", "y" * 64)
    with pytest.raises(ValidationError, match="ALLIANCE_SESSION_COOKIE_SECURE"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("ALLIANCE_ALLOW_INSECURE_SESSION_COOKIE", "true")
    assert Settings(_env_file=None).allow_insecure_session_cookie  # type: ignore[call-arg]
