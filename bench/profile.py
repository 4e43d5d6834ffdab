"""Where the service's CPU goes: per turn and per relayed token, optionally under py-spy.

Runs the same load twice through one service process, with short and long replies, and splits
the process's CPU time into a fixed cost per turn and a marginal cost per relayed token (the
slope between the two runs). With `--py-spy FILE` the long run (or, with `--spy-run short`,
the short one, where the cost per turn dominates) is recorded with py-spy and the
functions that use the most CPU (self and total) are printed.

    python -m bench.profile --streams 20 --short 30 --long 300
    python -m bench.profile --py-spy /tmp/relay.txt
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
from collections import Counter
from pathlib import Path

from bench.__main__ import critique_sources
from bench.run import Bench, Config, Target, cleanup
from bench.upstream_critique import bench_critique


async def _run(args: argparse.Namespace) -> None:
    bench = Bench(Config(levels=[args.streams], litellm=None))
    try:
        bench.start_upstream()
        proc = bench.start_service("service", args.critique == "on")
        target = Target("service", proc.port, "", proc, service=True)
        await bench.sign_up(target, args.streams)
        # The judge answers with a critique the service accepts, as in `python -m bench`.
        await bench.pace(tokens=args.short, critique=bench_critique().model_dump_json())
        await bench.round(target, args.streams)  # warm-up
        figures = {}
        for tokens in (args.short, args.long):
            await bench.pace(tokens=tokens)
            spy = None
            if args.py_spy and tokens == (args.long if args.spy_run == "long" else args.short):
                spy = await asyncio.create_subprocess_exec(
                    args.py_spy_bin,
                    "record",
                    "--format",
                    "raw",
                    "--rate",
                    "250",
                    *args.py_spy_flags.split(),
                    "-o",
                    args.py_spy,
                    "--pid",
                    str(proc.process.pid),
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.PIPE,
                )
                await asyncio.sleep(1.0)
            cpu = 0.0
            delivered = 0
            for _ in range(args.rounds):
                result = await bench.round(target, args.streams)
                cpu += result.cpu_s or 0.0
                delivered += sum(len(s.arrivals) for s in result.streams)
            if spy:
                spy.send_signal(signal.SIGINT)
                _, err = await asyncio.wait_for(spy.communicate(), 60)
                if spy.returncode not in (0, -signal.SIGINT):
                    print(f"py-spy failed: {err.decode()[-500:]}")
            turns = args.streams * args.rounds
            figures[tokens] = (cpu, delivered, turns)
            print(
                f"{tokens:>4} tokens: {turns} turns, {delivered} tokens, CPU {cpu:.3f} s, "
                f"{cpu / max(delivered, 1) * 1e6:.0f} µs/token all-in"
            )
        (c1, d1, t1), (c2, d2, t2) = figures[args.short], figures[args.long]
        per_token = (c2 / t2 - c1 / t1) / ((d2 / t2) - (d1 / t1))
        per_turn = c1 / t1 - per_token * d1 / t1
        print(
            f"marginal CPU per relayed token: {per_token * 1e6:.0f} µs; "
            f"fixed CPU per turn: {per_turn * 1e3:.1f} ms"
        )
        if args.critique == "on":
            # Every critique should be the judge model's: a fallback would profile another path.
            print(f"critiques by source: {critique_sources(bench.workdir / 'service.db')}")
        if args.py_spy:
            summarise(Path(args.py_spy))
    finally:
        cleanup(bench)


def summarise(path: Path, top: int = 40) -> None:
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        frames = stack.split(";")
        samples += n
        own[frames[-1]] += n
        for frame in set(frames):
            total[frame] += n
    print(f"\n{samples} samples; self:")
    for frame, n in own.most_common(top):
        print(f"{n / samples:6.1%}  {frame}")
    print("\ntotal:")
    for frame, n in total.most_common(top * 2):
        print(f"{n / samples:6.1%}  {frame}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--short", type=int, default=30)
    parser.add_argument("--long", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--critique", choices=["on", "off"], default="off")
    parser.add_argument("--py-spy", default="", help="record one run to this file")
    parser.add_argument(
        "--spy-run", choices=["short", "long"], default="long", help="which run py-spy records"
    )
    parser.add_argument("--py-spy-flags", default="--gil --native", help="extra py-spy flags")
    parser.add_argument("--py-spy-bin", default=shutil.which("py-spy") or "py-spy")
    asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    main()
