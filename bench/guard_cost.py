"""What the character guard's holdback costs: the service holding 3 words back and holding none.

`ALLIANCE_GUARD_HOLDBACK_WORDS` (`bench.serve --holdback`) is 3 in one service and 0 (the
default: each piece relayed as it arrives) in the other. Both run with the ready-made critique,
against the same fake upstream, rounds interleaved, and are compared with the upstream alone.

    python -m bench.guard_cost [--levels 1,20] [--single-rounds 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bench.report import compare, summarise
from bench.run import Bench, Config, Target, cleanup
from bench.upstream_critique import bench_critique


async def measure(bench: Bench, config: Config) -> list[str]:
    bench.start_upstream()
    await bench.pace(
        tokens=config.tokens,
        rate=config.rate,
        first_token_ms=config.first_token_ms,
        critique=bench_critique().model_dump_json(),
    )
    direct = Target("direct", bench.upstream_port, "/v1/chat/completions", None)
    held = bench.start_service("holdback-3", False, "--holdback", "3")
    at_once = bench.start_service("holdback-0", False, "--holdback", "0")
    targets = [
        direct,
        Target("holdback-3", held.port, "", held, service=True),
        Target("holdback-0", at_once.port, "", at_once, service=True),
    ]
    for target in targets[1:]:
        await bench.sign_up(target, max(config.levels))
    lines = [
        "| streams | holdback 3: added TTFT p50 / p99 ms, CPU µs/token "
        "| holdback 0: added TTFT p50 / p99 ms, CPU µs/token |",
        "|---:|---|---|",
    ]
    for level in config.levels:
        rounds = config.single_rounds if level == 1 else config.rounds
        measured = await bench.cell(targets, level, rounds)
        figures = {n: summarise(r, config, config.tokens, level) for n, r in measured.items()}
        added = compare(figures)

        lines.append(
            f"| {level} | {_cell(added, figures, 'holdback-3')} "
            f"| {_cell(added, figures, 'holdback-0')} |"
        )
    return lines


def _cell(added: dict[str, Any], figures: dict[str, Any], name: str) -> str:
    a, f = added[name], figures[name]
    return f"{a['ttft_p50_ms']:.1f} / {a['ttft_p99_ms']:.1f}, {f['cpu_us_per_token']:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.guard_cost", description=__doc__)
    parser.add_argument("--levels", default="1,20")
    parser.add_argument("--single-rounds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    config = Config(
        levels=[int(v) for v in args.levels.split(",")],
        single_rounds=args.single_rounds,
        rounds=args.rounds,
    )
    bench = Bench(config)
    try:
        lines = asyncio.run(measure(bench, config))
    finally:
        cleanup(bench)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
