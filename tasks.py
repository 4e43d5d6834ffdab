#!/usr/bin/env python3
"""The project's one task runner, for people and CI alike. Needs only Python 3.11+.

    python3 tasks.py serve   create .venv if needed, install, start the service, print its URL
    python3 tasks.py test    install the test dependencies, then lint, type-check and run every test

Environment: ALLIANCE_* settings pass through to the service (see .env.example).
For `test`: CI=true (or ALLIANCE_REQUIRE_ALL_TESTS=1) turns a skipped browser or PostgreSQL
test into a failure; ALLIANCE_TEST_POSTGRES_URL names the PostgreSQL server to test against.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def run(*args: str | Path, env: dict[str, str] | None = None) -> int:
    return subprocess.call([str(a) for a in args], cwd=ROOT, env=env)


def ensure_venv(extras: str) -> None:
    if not PY.exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extras or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print("Installing dependencies into .venv ...", flush=True)
    target = f".[{extras}]" if extras else "."
    pip = [PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if run(*pip, "--upgrade", "pip") != 0 or run(*pip, "--editable", target) != 0:
        sys.exit("Installing dependencies failed; see the messages above.")
    stamp.write_text(digest)


def serve(extra: list[str]) -> int:
    ensure_venv("")
    return run(BIN / "alliance", "serve", *extra)


def test(extra: list[str]) -> int:
    ensure_venv("test")
    steps: list[tuple[str, list[str | Path]]] = [
        ("ruff", [BIN / "ruff", "check", "."]),
        ("ruff format", [BIN / "ruff", "format", "--check", "."]),
        ("mypy", [BIN / "mypy"]),
        ("tests", [PY, "-m", "pytest", "-m", "not browser", *extra]),
        ("browser tests", [PY, "-m", "pytest", "-m", "browser", *extra]),
    ]
    failed: list[str] = []
    for name, command in steps:
        print(f"\n== {name}", flush=True)
        code = run(*command)
        # Exit code 5 means pytest collected no tests: that is a failure, not a pass.
        if code != 0:
            print(f"!! {name} failed (exit {code})", flush=True)
            failed.append(name)
    if failed:
        print(f"\nFailed: {', '.join(failed)}")
        return 1
    print("\nAll checks passed.")
    return 0


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("serve", "test"):
        print(__doc__)
        return 2
    command, extra = sys.argv[1], sys.argv[2:]
    return serve(extra) if command == "serve" else test(extra)


if __name__ == "__main__":
    raise SystemExit(main())
