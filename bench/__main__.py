"""`python -m bench`: run every cell and write bench/results/ (JSON, Markdown table, chart).

At default sizes a run takes about eight minutes on two cores, most of it in the cells that
overload one worker. Example of a larger run:

    python -m bench --levels 1,10,100,256 --rounds 3 --soak-seconds 300
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import shlex
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.report import compare, soak_summary, summarise, table
from bench.run import Bench, Config, Target, cleanup
from bench.upstream_critique import bench_critique

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_LITELLM = "/work/bench-venv/bin/litellm"
DEFAULT_PLOT_PYTHON = "/work/bench-venv/bin/python"


def parse(argv: list[str]) -> tuple[Config, argparse.Namespace]:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--levels", default="1,10,100,256", help="concurrent streams per cell")
    p.add_argument("--tokens", type=int, default=30, help="tokens per reply")
    p.add_argument("--rate", type=float, default=30.0, help="tokens per second per stream")
    p.add_argument("--first-token-ms", type=float, default=50.0)
    p.add_argument("--judge-ms", type=float, default=200.0, help="the judge's answer time")
    p.add_argument("--single-rounds", type=int, default=20, help="rounds at 1 stream")
    p.add_argument("--rounds", type=int, default=2, help="rounds at other levels")
    p.add_argument("--pool-streams", type=int, default=512, help="the long-stream cell (0: skip)")
    p.add_argument("--pool-tokens", type=int, default=300)
    p.add_argument(
        "--fault-every",
        type=int,
        default=0,
        help="add a cell of 10 streams where every n-th upstream stream answers 503 (0: skip)",
    )
    p.add_argument("--soak-seconds", type=float, default=30.0, help="0: skip the soak")
    p.add_argument("--soak-streams", type=int, default=256)
    p.add_argument("--litellm", default=DEFAULT_LITELLM, help="litellm binary ('' to skip)")
    p.add_argument("--plot-python", default=DEFAULT_PLOT_PYTHON, help="a python with matplotlib")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    config = Config(
        levels=[int(v) for v in args.levels.split(",") if v],
        tokens=args.tokens,
        rate=args.rate,
        first_token_ms=args.first_token_ms,
        judge_ms=args.judge_ms,
        single_rounds=args.single_rounds,
        rounds=args.rounds,
        pool_streams=args.pool_streams,
        pool_tokens=args.pool_tokens,
        soak_s=args.soak_seconds,
        soak_streams=args.soak_streams,
        litellm=args.litellm or None,
        fault_every=args.fault_every,
    )
    return config, args


def critique_sources(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as db:
        return dict(db.execute("SELECT source, count(*) FROM critiques GROUP BY source").fetchall())


async def measure(bench: Bench, config: Config) -> dict[str, Any]:
    log = bench.log
    bench.start_upstream()
    critique = bench_critique().model_dump_json()
    pace = {"tokens": config.tokens, "rate": config.rate, "first_token_ms": config.first_token_ms}
    await bench.pace(**pace, judge_ms=config.judge_ms, critique=critique)
    up = bench.upstream_port
    direct = Target("direct", up, "/v1/chat/completions", None)
    on = bench.start_service("service-on", critique=True)
    off = bench.start_service("service-off", critique=False)
    service_on = Target("service-on", on.port, "", on, service=True)
    service_off = Target("service-off", off.port, "", off, service=True)
    litellm_proc = bench.start_litellm()
    targets = [direct, service_off, service_on]
    if litellm_proc is not None:
        targets.append(
            Target(
                "litellm",
                litellm_proc.port,
                "/v1/chat/completions",
                litellm_proc,
                key=bench.litellm_key,
            )
        )
    log("signing up the simulated trainees ...")
    warm = 4  # streams in the warm-up round
    await bench.sign_up(service_on, max([*config.levels, config.pool_streams, warm]))
    await bench.sign_up(service_off, max([*config.levels, warm]))
    for target in targets:  # warm-up: first requests pay for imports and connections
        await bench.round(target, warm, spread=0.0)

    cells: list[dict[str, Any]] = []
    for level in config.levels:
        rounds = config.single_rounds if level == 1 else config.rounds
        log(f"cell: {level} stream(s) x {rounds} round(s)")
        measured = await bench.cell(targets, level, rounds)
        figures = {n: summarise(r, config, config.tokens, level) for n, r in measured.items()}
        cells.append({"level": level, "targets": figures, "added": compare(figures)})

    if config.pool_streams:
        log(f"cell: {config.pool_streams} long streams ({config.pool_tokens} tokens)")
        await bench.pace(tokens=config.pool_tokens)
        measured = await bench.cell([direct, service_on], config.pool_streams, 1)
        figures = {
            n: summarise(r, config, config.pool_tokens, config.pool_streams)
            for n, r in measured.items()
        }
        cells.append(
            {
                "level": config.pool_streams,
                "long": True,
                "targets": figures,
                "added": compare(figures),
            }
        )
        await bench.pace(tokens=config.tokens)
    if config.fault_every:
        log(f"cell: 10 streams, every {config.fault_every}th upstream stream answers 503")
        await bench.pace(fail_every=config.fault_every)
        measured = await bench.cell([direct, service_on], 10, 1)
        figures = {n: summarise(r, config, config.tokens, 10) for n, r in measured.items()}
        cells.append({"level": 10, "faults": True, "targets": figures, "added": compare(figures)})
        await bench.pace(fail_every=0)
    sources = critique_sources(bench.workdir / "service-on.db")
    for proc in [off, *([litellm_proc] if litellm_proc else [])]:
        proc.stop()

    soak: dict[str, Any] | None = None
    if config.soak_s > 0:
        log(f"soak: {config.soak_streams} conversations for {config.soak_s:g} s")
        fresh = bench.start_service("service-soak", critique=True)
        target = Target("service-on", fresh.port, "", fresh, service=True)
        await bench.sign_up(target, config.soak_streams)
        raw = await bench.soak(target, config.soak_streams, config.soak_s)
        soak = soak_summary(raw, config.tokens, config.stall_s)
    return {"cells": cells, "soak": soak, "critique_sources": sources}


def targets_check(results: dict[str, Any], config: Config) -> list[tuple[str, str, bool]]:
    checks: list[tuple[str, str, bool]] = []
    by_level = {c["level"]: c for c in results["cells"] if not (c.get("long") or c.get("faults"))}

    def added(level: int, name: str, key: str = "ttft_p99_ms") -> float:
        cell = by_level.get(level)
        return cell["added"][name][key] if cell and name in cell["added"] else math.nan

    for level, limit in ((1, 5.0), (100, 25.0)):
        if level not in by_level:
            continue  # a run of other levels says nothing about this one
        value = added(level, "service-on")
        checks.append(
            (
                f"added TTFT p99 at {level} stream(s) ≤ {limit:g} ms",
                f"{value:.1f} ms",
                value <= limit,
            )
        )
    for level in sorted(by_level):
        ours, theirs = added(level, "service-on"), added(level, "litellm")
        if not math.isnan(theirs):
            ok = ours <= max(theirs, 0) / 2
            checks.append(
                (
                    f"added TTFT p99 ≤ half LiteLLM's at {level}",
                    f"{ours:.1f} vs {theirs:.1f} ms",
                    ok,
                )
            )
    for level in sorted(by_level):
        if level >= 256:
            f = by_level[level]["targets"]["service-on"]
            ok = f["complete"] == f["streams"] and f["sustained"] == f["streams"]
            checks.append(
                (
                    f"{level} streams at {config.rate:g} tok/s: every token, no stall > 250 ms",
                    f"{f['complete']}/{f['streams']} complete, {f['sustained']} without stall",
                    ok,
                )
            )
    cpu = [
        c["targets"]["service-on"]["cpu_us_per_token"]
        for c in results["cells"]
        if not (c.get("long") or c.get("faults"))
    ]
    worst = max((v for v in cpu if v is not None), default=math.nan)
    checks.append(("CPU per relayed token ≤ 100 µs (worst cell)", f"{worst:.0f} µs", worst <= 100))
    if results["soak"]:
        kib = results["soak"]["kib_per_session"]
        checks.append(("memory per active session ≤ 64 KiB (soak)", f"{kib:.0f} KiB", kib <= 64))
    critique_cost = max(
        (added(level, "service-on") - added(level, "service-off") for level in by_level),
        default=math.nan,
    )
    checks.append(
        (
            "critique adds ≤ 1 ms to TTFT p99 (worst level)",
            f"{critique_cost:.1f} ms",
            critique_cost <= 1,
        )
    )
    faults = [c for c in results["cells"] if c.get("faults")]
    if faults:
        # Retries share the upstream's failure counter with every other stream, so a stream can
        # draw a failure on each attempt: it must then end with an error event, never an HTTP one.
        f, d = faults[0]["targets"]["service-on"], faults[0]["targets"]["direct"]
        http = [e for e, _ in f["errors"] if e.startswith("HTTP")]
        checks.append(
            (
                f"1 in {config.fault_every} upstream streams fails: retried, no HTTP error",
                f"{f['complete']}/{f['streams']} complete (direct {d['complete']}/{d['streams']}),"
                f" errors {f['errors'] or 0}",
                not http and f["complete"] >= d["complete"],
            )
        )
    long = [c for c in results["cells"] if c.get("long")]
    if long:
        f = long[0]["targets"]["service-on"]
        checks.append(
            (
                f"{long[0]['level']} long streams: no pool timeouts or errors",
                f"{f['complete']}/{f['streams']} complete, errors {f['errors'] or 0}",
                not f["errors"] and f["complete"] == f["streams"],
            )
        )
    return checks


def write(results: dict[str, Any], config: Config, args: argparse.Namespace, command: str) -> None:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `{command}` on {results['when']} ({results['machine']}).",
        "",
        table(results),
        "## Targets",
        "",
        "| target | measured | met |",
        "|---|---|---|",
        *[
            f"| {name} | {value} | {'yes' if ok else '**no**'} |"
            for name, value, ok in results["checks"]
        ],
        "",
        f"Critiques stored by the service with the critique on: {results['critique_sources']}",
        "",
    ]
    if results["soak"]:
        s = {k: v for k, v in results["soak"].items() if k != "samples"}
        lines += ["## Soak", "", "```", json.dumps(s, indent=1, default=str), "```", ""]
    lines += ["![chart](bench.png)", ""]
    (out / "results.md").write_text("\n".join(lines))
    plot = Path(args.plot_python)
    if plot.exists():
        subprocess.run(
            [str(plot), "-m", "bench.chart", str(out)],
            cwd=Path(__file__).parent.parent,
            check=False,
        )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    config, args = parse(argv)
    bench = Bench(config)
    began = time.time()
    try:
        results = asyncio.run(measure(bench, config))
    finally:
        cleanup(bench)
    import os
    import platform

    results["when"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(began))
    results["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    results["config"] = config.__dict__
    results["checks"] = targets_check(results, config)
    command = shlex.join(["python", "-m", "bench", *argv])
    write(results, config, args, command)
    print(table(results))
    for name, value, ok in results["checks"]:
        print(f"{'ok  ' if ok else 'MISS'} {name}: {value}")
    print(f"written to {args.out}/ in {time.time() - began:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
