"""The benchmark run: start the fake upstream, the service (critique on and off) and LiteLLM,
then measure every cell against the same load sent straight to the upstream.

Rounds of different targets are interleaved within a level, so a noisy neighbour on the machine
affects every target of a cell alike; figures are reported as differences from the in-run
direct baseline.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import procs
from bench.client import Stream, timed_stream
from bench.upstream_critique import TRAINEE_TEXT

ROOT = Path(__file__).resolve().parent.parent
SYSTEM = "You are playing a client in a counselling practice session. Stay in character."


@dataclass
class Config:
    levels: list[int] = field(default_factory=lambda: [1, 10, 100, 256])
    tokens: int = 30
    rate: float = 30.0
    first_token_ms: float = 50.0
    judge_ms: float = 200.0
    single_rounds: int = 20
    rounds: int = 2
    spread_s: float = 0.5
    pool_streams: int = 512
    pool_tokens: int = 300
    soak_s: float = 30.0
    soak_streams: int = 256
    litellm: str | None = None
    stall_s: float = 0.25
    fault_every: int = 0

    def users(self) -> int:
        return max([*self.levels, self.pool_streams, self.soak_streams])


@dataclass
class Target:
    name: str
    port: int
    path: str
    proc: procs.Proc | None
    service: bool = False
    users: list[tuple[str, str, str]] = field(default_factory=list)  # cookie, csrf, session
    key: str = ""  # a bearer key for a proxy

    def request(self, index: int) -> tuple[bytes, dict[str, str]]:
        if not self.service:
            body = {
                "model": "bench",
                "messages": [
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": TRAINEE_TEXT},
                ],
                "stream": True,
                "stream_options": {"include_usage": True},
                "max_tokens": 400,
            }
            headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
            return json.dumps(body).encode(), headers
        cookie, csrf, _session = self.users[index]
        body = {"text": TRAINEE_TEXT, "idempotency_key": uuid.uuid4().hex, "parent_id": None}
        headers = {"Cookie": f"alliance_session={cookie}", "X-CSRF-Token": csrf}
        return json.dumps(body).encode(), headers

    def path_for(self, index: int) -> str:
        if not self.service:
            return self.path
        return f"/api/sessions/{self.users[index][2]}/turns"


@dataclass
class Round:
    streams: list[Stream]
    cpu_s: float | None
    rss_before: int | None
    rss_peak: int | None
    seconds: float


class Bench:
    def __init__(self, config: Config, log: Callable[[str], None] = print) -> None:
        self.config = config
        self.log = log
        self.workdir = Path(tempfile.mkdtemp(prefix="alliance-bench-"))
        self.procs: list[procs.Proc] = []
        self.upstream_port = 0
        self.litellm_key = "sk-bench-" + secrets.token_hex(32)

    # -- processes ----------------------------------------------------------------------------

    def start_upstream(self) -> None:
        port = procs.free_port()
        command = [procs.python(), "-m", "bench.upstream", "--port", str(port)]
        env = {"PYTHONPATH": str(ROOT)}
        self.procs.append(
            procs.start(
                "upstream",
                command,
                port=port,
                ready_path="/v1/models",
                workdir=self.workdir,
                env=env,
            )
        )
        self.upstream_port = port

    def start_service(self, name: str, critique: bool, *extra: str) -> procs.Proc:
        port = procs.free_port()
        upstream = f"http://127.0.0.1:{self.upstream_port}/v1"
        env = {
            "PYTHONPATH": str(ROOT),
            "ALLIANCE_DATABASE_URL": f"sqlite+aiosqlite:///{self.workdir / name}.db",
            "ALLIANCE_LOG_LEVEL": "WARNING",
            "ALLIANCE_MAX_CONCURRENT_TURNS": "0",
        }
        for role in ("CLIENT", "EVALUATOR"):
            env |= {
                f"ALLIANCE_{role}__PROVIDER": "openai_compat",
                f"ALLIANCE_{role}__BASE_URL": upstream,
                f"ALLIANCE_{role}__MODEL": "bench",
                f"ALLIANCE_{role}__API_KEY": "bench-key",
            }
        command = [procs.python(), "-m", "bench.serve", "--port", str(port)]
        command += ["--critique", "on" if critique else "off", *extra]
        proc = procs.start(
            name, command, port=port, ready_path="/api/openapi.json", workdir=self.workdir, env=env
        )
        self.procs.append(proc)
        return proc

    def start_litellm(self) -> procs.Proc | None:
        binary = self.config.litellm
        if not binary or not Path(binary).exists():
            self.log("LiteLLM not found; its column is left out (see --litellm)")
            return None
        port = procs.free_port()
        config = self.workdir / "litellm.yaml"
        config.write_text(
            "model_list:\n"
            "  - model_name: bench\n"
            "    litellm_params:\n"
            "      model: openai/bench\n"
            f"      api_base: http://127.0.0.1:{self.upstream_port}/v1\n"
            "      api_key: bench-key\n"
            "litellm_settings:\n"
            "  telemetry: false\n"
        )
        env = {
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_TELEMETRY": "False",
            "LITELLM_MASTER_KEY": self.litellm_key,
        }
        command = [binary, "--config", str(config), "--port", str(port), "--num_workers", "1"]
        proc = procs.start(
            "litellm",
            command,
            port=port,
            ready_path="/health/liveliness",
            workdir=self.workdir,
            env=env,
            wait_s=180,
        )
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.procs.clear()

    # -- set-up -------------------------------------------------------------------------------

    async def pace(self, **changes: Any) -> None:
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"http://127.0.0.1:{self.upstream_port}/control", json=changes
            )
            response.raise_for_status()

    async def sign_up(self, target: Target, count: int) -> None:
        """One trainee and one practice session per concurrent stream (not timed)."""
        base = f"http://127.0.0.1:{target.port}"
        gate = asyncio.Semaphore(16)
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            personas = (
                await client.get("/api/personas", cookies=await self._cookie(client, 0))
            ).json()

            async def one(index: int) -> tuple[str, str, str]:
                async with gate:
                    signed = await client.post(
                        "/api/auth/dev", json={"name": f"Bench Trainee {index}"}
                    )
                    signed.raise_for_status()
                    cookie = signed.cookies["alliance_session"]
                    csrf = signed.json()["csrf_token"]
                    session = await client.post(
                        "/api/sessions",
                        json={"persona_id": personas[index % len(personas)]["id"]},
                        headers={"X-CSRF-Token": csrf},
                        cookies={"alliance_session": cookie},
                    )
                    session.raise_for_status()
                    client.cookies.clear()
                    return cookie, csrf, session.json()["id"]

            target.users = list(await asyncio.gather(*(one(i) for i in range(count))))

    @staticmethod
    async def _cookie(client: httpx.AsyncClient, index: int) -> dict[str, str]:
        signed = await client.post("/api/auth/dev", json={"name": f"Bench Trainee {index}"})
        signed.raise_for_status()
        client.cookies.clear()
        return {"alliance_session": signed.cookies["alliance_session"]}

    # -- measuring ----------------------------------------------------------------------------

    async def round(self, target: Target, level: int, *, spread: float | None = None) -> Round:
        spread = self.config.spread_s if spread is None else spread
        proc = target.proc
        peak = [proc.rss_bytes()] if proc else [0]
        before = peak[0]
        cpu = proc.cpu_seconds() if proc else 0.0
        began = time.perf_counter()

        async def sample() -> None:
            while proc:
                peak[0] = max(peak[0], proc.rss_bytes())
                await asyncio.sleep(0.05)

        async def one(index: int) -> Stream:
            await asyncio.sleep(spread * index / level if level > 1 else 0.0)
            body, headers = target.request(index)
            return await timed_stream(
                target.name,
                target.port,
                target.path_for(index),
                body,
                headers=headers,
                service=target.service,
            )

        sampler = asyncio.create_task(sample())
        try:
            streams = list(await asyncio.gather(*(one(i) for i in range(level))))
        finally:
            sampler.cancel()
        return Round(
            streams=streams,
            cpu_s=(proc.cpu_seconds() - cpu) if proc else None,
            rss_before=before if proc else None,
            rss_peak=peak[0] if proc else None,
            seconds=time.perf_counter() - began,
        )

    async def cell(self, targets: list[Target], level: int, rounds: int) -> dict[str, list[Round]]:
        results: dict[str, list[Round]] = {t.name: [] for t in targets}
        for _ in range(rounds):
            for target in targets:
                results[target.name].append(await self.round(target, level))
                await asyncio.sleep(0.2)
        return results

    async def soak(self, target: Target, streams: int, seconds: float) -> dict[str, Any]:
        """`streams` conversations kept busy for `seconds`; memory sampled once a second."""
        proc = target.proc
        assert proc is not None
        await self.round(target, 10, spread=0.0)  # warm-up: imports, pools, caches
        baseline = proc.rss_bytes()
        samples: list[tuple[float, int]] = []
        results: list[Stream] = []
        began = time.perf_counter()
        cpu = proc.cpu_seconds()

        async def user(index: int) -> None:
            await asyncio.sleep(self.config.spread_s * index / streams)
            while time.perf_counter() - began < seconds:
                body, headers = target.request(index)
                results.append(
                    await timed_stream(
                        target.name,
                        target.port,
                        target.path_for(index),
                        body,
                        headers=headers,
                        service=True,
                    )
                )

        async def sample() -> None:
            while True:
                samples.append((time.perf_counter() - began, proc.rss_bytes()))
                await asyncio.sleep(1.0)

        sampler = asyncio.create_task(sample())
        try:
            await asyncio.gather(*(user(i) for i in range(streams)))
        finally:
            sampler.cancel()
        return {
            "streams": streams,
            "seconds": time.perf_counter() - began,
            "baseline_rss": baseline,
            "samples": samples,
            "cpu_s": proc.cpu_seconds() - cpu,
            "results": results,
        }


def cleanup(bench: Bench) -> None:
    bench.stop()
    if not os.environ.get("ALLIANCE_BENCH_KEEP"):
        shutil.rmtree(bench.workdir, ignore_errors=True)
