"""The container and deployment examples, checked without Docker: the Dockerfile's stages and
user, the compose files' services, health checks, settings and secrets.

Each compose file's service environment is resolved the way `docker compose --env-file` would
(with deploy/example.env) and, together with the image's own ENV, must be accepted by
`Settings`: a misspelt or removed setting fails here, not at a customer's first start.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from app.settings import PROJECT_ROOT, Settings

DEPLOY = PROJECT_ROOT / "deploy"
COMPOSE_FILES = sorted(DEPLOY.glob("compose*.yml"))
SECRETISH = re.compile(r"PASSWORD|SECRET|API_KEY|_TOKEN$", re.I)
PLACEHOLDER = re.compile(r"change-me|example", re.I)
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}")


def setting_names(model: type[BaseModel], prefix: str = "ALLIANCE_") -> set[str]:
    names: set[str] = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= setting_names(annotation, f"{prefix}{name.upper()}__")
        else:
            names.add(f"{prefix}{name.upper()}")
    return names


SETTINGS = setting_names(Settings)


def env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


EXAMPLE_ENV = env_file(DEPLOY / "example.env")


def resolve(value: str) -> str:
    """Compose interpolation with deploy/example.env as the --env-file."""

    def one(match: re.Match[str]) -> str:
        name, op, default = match.group(1), match.group(2), match.group(3) or ""
        if op and op.endswith("?"):
            assert name in EXAMPLE_ENV, f"{name} is required but missing from deploy/example.env"
            return EXAMPLE_ENV[name]
        if name in EXAMPLE_ENV and (EXAMPLE_ENV[name] or op != ":-"):
            return EXAMPLE_ENV[name]
        return default

    return INTERPOLATION.sub(one, value)


def environment(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {str(k): "" if v is None else str(v) for k, v in raw.items()}


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return document


# -- Dockerfile -------------------------------------------------------------------------------


def dockerfile_stages() -> list[list[str]]:
    """Instructions per stage, continuation lines joined, comments dropped."""
    text = (PROJECT_ROOT / "Dockerfile").read_text()
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pending += " " + stripped.removesuffix("\\").strip()
        if not stripped.endswith("\\"):
            lines.append(pending.strip())
            pending = ""
    stages: list[list[str]] = []
    for line in lines:
        if line.upper().startswith("FROM "):
            stages.append([])
        assert stages, "the Dockerfile must start with FROM"
        stages[-1].append(line)
    return stages


def instructions(stage: list[str], keyword: str) -> list[str]:
    return [line[len(keyword) + 1 :] for line in stage if line.upper().startswith(keyword + " ")]


def test_dockerfile_is_multi_stage_and_the_final_stage_is_slim() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    builder, final = stages[0], stages[-1]
    assert instructions(builder, "FROM")[0].split()[-1] == "builder"
    assert instructions(final, "FROM")[0].split()[0] == "python:3.11-slim"
    assert any("--from=builder" in line for line in instructions(final, "COPY"))
    assert any("pip wheel" in line for line in instructions(builder, "RUN"))


def test_no_build_tools_in_the_final_image() -> None:
    final = " ".join(dockerfile_stages()[-1]).lower()
    for tool in ("gcc", "build-essential", "apt-get install", "make ", "g++", "clang"):
        assert tool not in final, f"{tool} in the final stage"


def test_the_service_runs_as_an_unprivileged_user() -> None:
    final = dockerfile_stages()[-1]
    users = instructions(final, "USER")
    assert users, "the final stage sets no USER: the service would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert "useradd --system --uid 10001 --gid alliance" in " ".join(final)
    # Nothing runs after USER that would need root.
    after = final[final.index(f"USER {users[-1]}") :]
    assert not any(line.upper().startswith("RUN ") for line in after)


def test_the_image_checks_its_health_with_python_and_migrates_on_start() -> None:
    final = dockerfile_stages()[-1]
    checks = instructions(final, "HEALTHCHECK")
    assert len(checks) == 1
    assert "urllib.request" in checks[0]
    assert "/healthz" in checks[0]
    assert "curl" not in checks[0]
    assert "wget" not in checks[0]
    command = " ".join(instructions(final, "CMD") + instructions(final, "ENTRYPOINT"))
    assert "alliance db upgrade" in command
    assert command.index("alliance db upgrade") < command.index("alliance serve")


def dockerfile_env() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in instructions(dockerfile_stages()[-1], "ENV"):
        for part in shlex.split(line):
            key, _, value = part.partition("=")
            values[key] = value
    return values


def test_the_image_settings_exist() -> None:
    image = {k: v for k, v in dockerfile_env().items() if k.startswith("ALLIANCE_")}
    assert set(image) - SETTINGS == set()
    assert image["ALLIANCE_HOST"] == "0.0.0.0"
    assert image["ALLIANCE_ENVIRONMENT"] == "production"


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    ignored = {
        line.strip()
        for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".env", ".venv", ".git", "data", "*.db", "tests"} <= ignored
    for needed in ("app", "frontend", "personas", "prompts", "pyproject.toml", "README.md"):
        assert needed not in ignored


# -- compose files ----------------------------------------------------------------------------


def test_the_three_deployments_are_there() -> None:
    names = {path.name for path in COMPOSE_FILES}
    assert names == {"compose.postgres.yml", "compose.oauth2-proxy.yml", "compose.local-model.yml"}


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_every_service_has_a_health_check_and_dependencies_exist(path: Path) -> None:
    services: dict[str, Any] = load(path)["services"]
    assert {"app", "db"} <= set(services)
    for name, service in services.items():
        check = service.get("healthcheck") or {}
        assert check.get("test"), f"{path.name}: {name} has no healthcheck"
        depends = service.get("depends_on") or {}
        for other in depends:
            assert other in services, f"{path.name}: {name} depends on unknown {other}"
            if isinstance(depends, dict):
                assert depends[other]["condition"] == "service_healthy"
    # Host names used in addresses (outside comments) are services of this file.
    text = yaml.safe_dump(load(path))
    for host in re.findall(r"(?:@|//)([a-z][a-z0-9-]*):\d+", text):
        assert host in services or host == "127.0.0.1", f"{path.name}: unknown host {host}"
    assert services["app"]["build"]["context"] == ".."
    assert (path.parent / services["app"]["build"]["context"] / "Dockerfile").exists()


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_the_app_settings_exist_and_are_valid(path: Path) -> None:
    app = load(path)["services"]["app"]
    env = environment(app)
    unknown = {name for name in env if name.startswith("ALLIANCE_")} - SETTINGS
    assert unknown == set(), f"{path.name}: not settings of the service: {unknown}"
    interpolated = set(re.findall(r"\$\{(ALLIANCE_[A-Z0-9_]+)", path.read_text()))
    assert interpolated - SETTINGS == set()
    resolved = {**dockerfile_env(), **{k: resolve(v) for k, v in env.items()}}
    values = {k: v for k, v in resolved.items() if k.startswith("ALLIANCE_")}
    # Settings reads the environment; pass the resolved values the same way.
    mp = pytest.MonkeyPatch()
    try:
        for key, value in values.items():
            mp.setenv(key, value)
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
    finally:
        mp.undo()
    assert settings.database_url.startswith("postgresql+asyncpg://alliance:")
    assert "@db:5432/alliance" in settings.database_url
    assert settings.environment == "production"


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_no_secret_is_written_into_a_compose_file(path: Path) -> None:
    for name, service in load(path)["services"].items():
        for key, value in environment(service).items():
            if not SECRETISH.search(key):
                continue
            literal = INTERPOLATION.sub("", value)
            assert literal == "", f"{path.name}: {name}.{key} holds a literal secret"
        for key, value in environment(service).items():
            # Credentials inside URLs come from the env file too.
            for password in re.findall(r"://[^:/@\s]+:([^@\s]+)@", value):
                assert password.startswith("${"), f"{path.name}: {name}.{key} embeds a password"


def test_the_example_env_holds_only_placeholders_for_secrets() -> None:
    for key, value in EXAMPLE_ENV.items():
        if SECRETISH.search(key) and value:
            assert PLACEHOLDER.search(value), f"deploy/example.env: {key} looks like a real secret"
