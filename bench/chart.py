"""Draw bench/results/bench.png from results.json (run with a Python that has matplotlib)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

NAMES = {
    "service-off": "service, no critique",
    "service-on": "service + critique",
    "litellm": "LiteLLM proxy",
}


def main(out: Path) -> None:
    results = json.loads((out / "results.json").read_text())
    cells = [c for c in results["cells"] if not (c.get("long") or c.get("faults"))]
    levels = [c["level"] for c in cells]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    panels = [
        ("ttft_p99_ms", "added time to first token, p99 (ms)", "added"),
        ("lag_p99_ms", "added per-token lag, p99 (ms)", "added"),
        ("cpu_us_per_token", "process CPU per relayed token (µs)", "targets"),
    ]
    for axis, (key, title, where) in zip(axes, panels, strict=True):
        for name, label in NAMES.items():
            values = [c[where].get(name, {}).get(key) for c in cells]
            if all(v is None for v in values):
                continue
            axis.plot(
                levels, [v if v is not None else float("nan") for v in values], "o-", label=label
            )
        axis.set_xscale("log")
        if where == "added":
            axis.set_yscale("symlog", linthresh=10)
        axis.set_xlabel("concurrent streams")
        axis.set_title(title)
        axis.grid(True, alpha=0.3)
    axes[0].legend()
    fig.suptitle(
        f"Relay overhead against the same load sent straight to the upstream ({results['when']})"
    )
    fig.tight_layout()
    fig.savefig(out / "bench.png", dpi=110)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
