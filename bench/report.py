"""Figures from timed streams, the comparison with the in-run baseline, and the Markdown table."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from bench.client import Stream
from bench.run import Config, Round

TARGETS = {
    "direct": "upstream alone",
    "service-off": "service, no critique",
    "service-on": "service + critique",
    "litellm": "LiteLLM proxy",
}


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summarise(rounds: list[Round], config: Config, tokens: int, level: int) -> dict[str, Any]:
    streams: list[Stream] = [s for r in rounds for s in r.streams]
    interval = 1.0 / config.rate
    ttft = [s.ttft for s in streams if s.ttft is not None]
    lags = [
        at - s.ttft - k * interval
        for s in streams
        if s.ttft is not None
        for k, at in s.arrivals.items()
    ]
    complete = [s for s in streams if s.ok and len(s.arrivals) == tokens]
    sustained = [s for s in complete if s.max_gap <= config.stall_s]
    delivered = sum(len(s.arrivals) for s in streams)
    cpu = [r.cpu_s for r in rounds if r.cpu_s is not None]
    memory = [
        (r.rss_peak - r.rss_before) / level
        for r in rounds
        if r.rss_peak is not None and r.rss_before is not None
    ]
    return {
        "streams": len(streams),
        "ttft_p50_ms": percentile(ttft, 50) * 1000,
        "ttft_p99_ms": percentile(ttft, 99) * 1000,
        "lag_p99_ms": percentile(lags, 99) * 1000,
        "max_gap_ms": max((s.max_gap for s in streams), default=math.nan) * 1000,
        "complete": len(complete),
        "sustained": len(sustained),
        "tokens": delivered,
        "errors": Counter(s.error for s in streams if s.error).most_common(3),
        "cpu_us_per_token": (sum(cpu) / delivered * 1e6) if cpu and delivered else None,
        "rss_kib_per_stream": (max(memory) / 1024) if memory else None,
    }


def compare(cell: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Each target minus the direct baseline of the same cell."""
    base = cell["direct"]
    added: dict[str, dict[str, float]] = {}
    for name, figures in cell.items():
        if name == "direct":
            continue
        added[name] = {
            "ttft_p50_ms": figures["ttft_p50_ms"] - base["ttft_p50_ms"],
            "ttft_p99_ms": figures["ttft_p99_ms"] - base["ttft_p99_ms"],
            "lag_p99_ms": figures["lag_p99_ms"] - base["lag_p99_ms"],
        }
    return added


def _f(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


COLUMNS = [
    ("streams at once", "---:"),
    ("target", "---"),
    ("samples", "---:"),
    ("TTFT p50 ms", "---:"),
    ("TTFT p99 ms", "---:"),
    ("added TTFT p50 / p99 ms", "---:"),
    ("token lag p99 ms", "---:"),
    ("added lag p99 ms", "---:"),
    ("all tokens", "---:"),
    ("no stall > 250 ms", "---:"),
    ("errors", "---"),
    ("CPU µs/token", "---:"),
    ("RSS KiB/stream", "---:"),
]


def _label(cell: dict[str, Any]) -> str:
    if cell.get("long"):
        return " (long)"
    return " (upstream faults)" if cell.get("faults") else ""


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def table(results: dict[str, Any]) -> str:
    lines = [_row([c for c, _ in COLUMNS]), _row([a for _, a in COLUMNS])]
    for cell in results["cells"]:
        for name, figures in cell["targets"].items():
            added = cell["added"].get(name)
            n = figures["streams"]
            errors = "; ".join(f"{count}× {error}" for error, count in figures["errors"])
            lines.append(
                _row(
                    [
                        f"{cell['level']}{_label(cell)}",
                        TARGETS[name],
                        str(n),
                        _f(figures["ttft_p50_ms"]),
                        _f(figures["ttft_p99_ms"]),
                        f"{_f(added['ttft_p50_ms'])} / {_f(added['ttft_p99_ms'])}"
                        if added
                        else "(baseline)",
                        _f(figures["lag_p99_ms"]),
                        _f(added["lag_p99_ms"]) if added else "(baseline)",
                        f"{figures['complete']}/{n}",
                        f"{figures['sustained']}/{n}",
                        errors or "0",
                        _f(figures["cpu_us_per_token"]),
                        _f(figures["rss_kib_per_stream"]),
                    ]
                )
            )
    return "\n".join(lines) + "\n"


def soak_summary(soak: dict[str, Any], tokens: int, stall_s: float) -> dict[str, Any]:
    results: list[Stream] = soak.pop("results")
    samples = soak["samples"]
    peak = max((rss for _, rss in samples), default=soak["baseline_rss"])
    quarter = [rss for t, rss in samples if t >= soak["seconds"] / 4]
    delivered = sum(len(s.arrivals) for s in results)
    complete = [s for s in results if s.ok and len(s.arrivals) == tokens]
    return {
        "streams": soak["streams"],
        "seconds": soak["seconds"],
        "turns": len(results),
        "complete": len(complete),
        "sustained": len([s for s in complete if s.max_gap <= stall_s]),
        "errors": Counter(s.error for s in results if s.error).most_common(3),
        "rss_baseline_mib": soak["baseline_rss"] / 2**20,
        "rss_peak_mib": peak / 2**20,
        "kib_per_session": (peak - soak["baseline_rss"]) / soak["streams"] / 1024,
        "growth_after_first_quarter_mib": ((quarter[-1] - quarter[0]) / 2**20) if quarter else None,
        "cpu_us_per_token": soak["cpu_s"] / delivered * 1e6 if delivered else None,
        "samples": samples,
    }
