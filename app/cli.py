"""The `alliance` command: serve, db upgrade, personas validate."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from pydantic import ValidationError

from app.errors import PersonaError
from app.settings import Settings


def _settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        print("The settings are not valid:", file=sys.stderr)
        for err in exc.errors():
            name = "ALLIANCE_" + "__".join(str(p) for p in err["loc"]).upper()
            print(f"  {name}: {err['msg'].removeprefix('Value error, ')}", file=sys.stderr)
        raise SystemExit(2) from None


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import create_app

    overrides: dict[str, object] = {}
    if args.host:
        overrides["host"] = args.host
    if args.port:
        overrides["port"] = args.port
    settings = _settings(**overrides)
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    try:
        app = create_app(settings)
    except PersonaError as exc:
        print(f"The persona library has problems:\n{exc}", file=sys.stderr)
        return 2
    shown_host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host  # noqa: S104
    model = "offline demo model" if settings.offline else "configured models"
    print(
        f"Alliance practice: open http://{shown_host}:{settings.port}/ "
        f"({model}; database {settings.database_url.split('://')[0]}). Ctrl+C stops it.",
        flush=True,
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        proxy_headers=False,
        timeout_graceful_shutdown=15,
    )
    return 0


def _db_upgrade(_args: argparse.Namespace) -> int:
    from app.storage.db import open_database

    settings = _settings()

    async def run() -> None:
        database = open_database(settings.database_url)
        try:
            await database.upgrade()
        finally:
            await database.close()

    asyncio.run(run())
    print("The database schema is up to date.")
    return 0


def _personas_validate(args: argparse.Namespace) -> int:
    from app.personas import load_personas, parse_persona

    target = Path(args.path) if args.path else _settings().personas_dir
    try:
        if target.is_file():
            personas = {"": parse_persona(target.read_text(encoding="utf-8"), file=str(target))}
        else:
            personas = load_personas(target)
    except PersonaError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found.", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{target}: cannot read it: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"{len(personas)} persona(s) valid in {target}.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alliance", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the web service")
    serve.add_argument("--host", help="address to bind (default from ALLIANCE_HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default from ALLIANCE_PORT, 8000)")
    serve.set_defaults(func=_serve)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply schema migrations")
    upgrade.set_defaults(func=_db_upgrade)

    personas = commands.add_parser("personas", help="persona library tools")
    persona_commands = personas.add_subparsers(dest="personas_command", required=True)
    validate = persona_commands.add_parser("validate", help="check persona files")
    validate.add_argument("path", nargs="?", help="a persona file or directory")
    validate.set_defaults(func=_personas_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
