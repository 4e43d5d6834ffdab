"""Processes under test: start, wait until they answer, read their CPU time and memory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class Proc:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the process and its reaped children."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(value) for value in fields[11:15]) / TICKS

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start(
    name: str,
    command: list[str],
    *,
    port: int,
    ready_path: str,
    workdir: Path,
    env: dict[str, str] | None = None,
    wait_s: float = 120.0,
) -> Proc:
    log = workdir / f"{name}.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCE_")}
    environment.update(env or {})
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=workdir, env=environment, stdout=out, stderr=subprocess.STDOUT
        )
    proc = Proc(name, port, process, log)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited at start; see {log}:\n{log.read_text()[-3000:]}")
        try:
            httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=2.0)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.stop()
    raise RuntimeError(f"{name} did not answer within {wait_s:g} s; see {log}")


def python() -> str:
    return sys.executable
