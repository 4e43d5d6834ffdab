"""A real `alliance serve` process on a free loopback port, for tests that need one."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ALLIANCE = Path(sys.executable).parent / "alliance"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class Server:
    """Starts `alliance serve` with the given settings; `kill` sends SIGKILL, `stop` SIGTERM."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"server-{self.port}.log"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCE_")}
        environment.update({"ALLIANCE_LOG_LEVEL": "WARNING", **env})
        with self.log.open("wb") as out:
            # The working directory holds no .env file, so only `env` configures the service.
            self.process = subprocess.Popen(
                [str(ALLIANCE), "serve", "--port", str(self.port)],
                cwd=workdir,
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                httpx.get(self.url + "/api/openapi.json", timeout=1.0)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError(f"the server did not start in {timeout:g} s")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
