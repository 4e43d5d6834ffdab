"""The `alliance` command: serve, db upgrade, personas validate, calibrate, chat, sessions,
retention, bench."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from pydantic import ValidationError

from app.errors import PersonaError
from app.settings import PROJECT_ROOT, Settings


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
    from app.observability.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    if _rubric_problems(settings):
        return 2
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
        log_config=None,  # keep the structured logging configured above
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


def _rubric_problems(settings: Settings) -> bool:
    """Print the evaluator rubric's problems, if any; the rubric is read before anything runs."""
    from app.evaluator.rubric import RUBRIC_FILE, RubricError, load_rubric

    try:
        load_rubric(settings.prompts_dir / RUBRIC_FILE)
    except RubricError as exc:
        print(f"The evaluator's rubric has problems:\n{exc}", file=sys.stderr)
        return True
    return False


def _calibrate(args: argparse.Namespace) -> int:
    from app.evaluator.calibration import (
        GoldFileError,
        agreement_report,
        critique_all,
        format_table,
        load_gold,
        report_json,
    )
    from app.evaluator.judge import Evaluator
    from app.llm.registry import build_model
    from app.prompts import Prompts

    settings = _settings()
    if _rubric_problems(settings):
        return 2
    try:
        gold = load_gold(Path(args.gold))
    except GoldFileError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found; see docs/calibration.md.", file=sys.stderr)
        return 1
    role = settings.evaluator
    if args.offline:
        role = role.model_copy(update={"provider": "scripted"})

    async def run() -> str:
        model = build_model(role, role="evaluator")
        try:
            evaluator = Evaluator(
                model=model,
                prompts=Prompts(settings.prompts_dir),
                max_tokens=settings.evaluator.max_tokens,
            )
            critiques = await critique_all(gold, evaluator, concurrency=args.concurrency)
        finally:
            await model.aclose()
        report = agreement_report(gold, critiques, judge=critiques[0].judge or model.label)
        return json.dumps(report_json(report), indent=2) if args.json else format_table(report)

    print(asyncio.run(run()))
    return 0


def _chat(args: argparse.Namespace) -> int:
    import tempfile

    from app import terminal
    from app.services import Services

    overrides: dict[str, object] = {}
    if args.minutes:
        overrides["planned_minutes"] = args.minutes
    scratch = tempfile.TemporaryDirectory(prefix="alliance-chat-") if args.scratch else None
    if scratch is not None:
        overrides["database_url"] = f"sqlite+aiosqlite:///{Path(scratch.name) / 'chat.db'}"
    settings = _settings(**overrides)

    def read_line() -> str | None:
        line = sys.stdin.readline()
        return line if line else None

    async def run() -> int:
        try:
            services = await Services.open(settings)
        except PersonaError as exc:
            print(f"The persona library has problems:\n{exc}", file=sys.stderr)
            return 2
        try:
            if args.persona not in services.personas:
                known = ", ".join(sorted(services.personas))
                print(
                    f"There is no persona {args.persona!r}; choose one of: {known}.",
                    file=sys.stderr,
                )
                return 2
            await terminal.chat(
                services,
                persona_id=args.persona,
                read_line=read_line,
                out=sys.stdout,
                show_state=not args.hide_state,
                echo=not sys.stdin.isatty(),
            )
        finally:
            await services.close()
        return 0

    try:
        return asyncio.run(run())
    finally:
        if scratch is not None:
            scratch.cleanup()


def _sessions_show(args: argparse.Namespace) -> int:
    from app import terminal
    from app.errors import NotFound

    settings = _settings()
    try:
        asyncio.run(terminal.show(settings, session_id=args.session_id, out=sys.stdout))
    except NotFound as exc:
        print(exc.message, file=sys.stderr)
        return 1
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

    calibrate = commands.add_parser(
        "calibrate",
        help="agreement between the evaluator and human-rated turns (docs/calibration.md)",
    )
    calibrate.add_argument("gold", help="CSV of rated turns (format in docs/calibration.md)")
    calibrate.add_argument("--json", action="store_true", help="print the report as JSON")
    calibrate.add_argument(
        "--offline", action="store_true", help="use the offline judge, whatever is configured"
    )
    calibrate.add_argument(
        "--concurrency", type=int, default=4, help="turns judged at once (default 4)"
    )
    calibrate.set_defaults(func=_calibrate)

    chat = commands.add_parser(
        "chat",
        help="talk to a simulated client in the terminal, with the critique and client state",
    )
    chat.add_argument("persona", help="the persona id, e.g. farid-anxious")
    chat.add_argument("--minutes", type=int, help="planned session length (default from settings)")
    chat.add_argument(
        "--hide-state", action="store_true", help="practise without seeing the client state"
    )
    chat.add_argument(
        "--scratch",
        action="store_true",
        help="use a throwaway database instead of the configured one",
    )
    chat.set_defaults(func=_chat)

    sessions = commands.add_parser("sessions", help="stored practice sessions")
    session_commands = sessions.add_subparsers(dest="sessions_command", required=True)
    show = session_commands.add_parser(
        "show", help="every turn of a session with the client state that produced each reply"
    )
    show.add_argument("session_id", help="the session's id")
    show.set_defaults(func=_sessions_show)

    retention = commands.add_parser("retention", help="delete sessions past the retention period")
    retention_commands = retention.add_subparsers(dest="retention_command", required=True)
    apply = retention_commands.add_parser(
        "apply", help="delete sessions older than ALLIANCE_RETENTION_DAYS now"
    )
    apply.set_defaults(func=_retention_apply)

    # Only listed here: `main` hands everything after `bench` to `python -m bench` untouched.
    commands.add_parser(
        "bench",
        help="the load benchmark (python -m bench; needs a checkout of the repository)",
        add_help=False,
    )
    return parser


BENCH_MISSING = (
    "alliance bench runs the benchmark in the bench/ folder of the repository, which is not "
    "part of the installed package. Run it from the root of a checkout (where bench/ is), "
    "for example: cd alliance && alliance bench --help"
)


def _bench_root() -> Path | None:
    """The folder holding the bench package: the current one, or the checkout `app` is in."""
    for root in (Path.cwd(), PROJECT_ROOT):
        if (root / "bench" / "__main__.py").is_file():
            return root
    return None


def _bench(argv: list[str]) -> int:
    root = _bench_root()
    if root is None:
        print(BENCH_MISSING, file=sys.stderr)
        return 2
    path = os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p)
    # The same interpreter, the same arguments; the benchmark's exit status is ours.
    command = [sys.executable, "-m", "bench", *argv]
    return subprocess.call(command, env={**os.environ, "PYTHONPATH": path})  # noqa: S603


def _retention_apply(_args: argparse.Namespace) -> int:
    from app.retention import apply_retention
    from app.storage.db import open_database

    settings = _settings()
    if settings.retention_days <= 0:
        print("ALLIANCE_RETENTION_DAYS is 0: sessions are kept; nothing to delete.")
        return 0

    async def run() -> int:
        database = open_database(settings.database_url)
        try:
            await database.upgrade()
            result = await apply_retention(database, settings.retention_days)
        finally:
            await database.close()
        return result.sessions_deleted

    deleted = asyncio.run(run())
    print(f"Deleted {deleted} practice sessions older than {settings.retention_days} days.")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:
        return _bench(argv[1:])
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
