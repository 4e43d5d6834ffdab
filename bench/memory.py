"""What the service's memory per active streaming session is made of.

Starts the fake upstream and the service, warms the service up as the soak does (10 short
turns), then opens `--streams` turns whose replies are long and slow (`--tokens` at `--rate`
tokens per second), so that all of them are streaming at once. While they are, it reads:

1. the service's RSS (a service without tracing, started with `bench.serve --memory-probe`):
   the increase over the warmed-up baseline divided by the number of streams, once all are
   live (or 80% of a reply's time has gone by: a saturated service may never relay all at
   once), at the peak of the wave, and what is still held once the wave has ended; then how
   the increase is held (RSS by kind of mapping, pymalloc's arenas and the bytes in their
   blocks, malloc's bytes in use and kept free, threads) and the live objects per stream by
   type (`--no-rss` skips this wave);
2. with `--frames N` (default 10; 0 skips it), a second service started with
   `bench.serve --tracemalloc N`: tracemalloc snapshots before the wave, while every stream is
   live and after the wave, and the difference per stream by source line, by package (of the
   allocating frame and of the nearest frame outside the standard library), by the nearest
   frame in `app/`, and the live objects per stream by type. Tracing makes the service several
   times slower, so this wave has its own pace (`--trace-tokens` at `--trace-rate`, streams
   starting over `--trace-spread` seconds): the service keeps up, and every stream is live
   when the snapshot is taken. What a stream holds per token is read from the `Delta` count.

`--soak SECONDS` also runs the benchmark's own soak (`bench.run.Bench.soak`, 30-token turns kept
busy for that long) on a fresh service and prints its `kib_per_session`.

    python -m bench.memory --streams 256 --tokens 300 --rate 30
    python -m bench.memory --streams 256 --frames 0 --soak 30
    python -m bench.memory --no-rss --frames 25 --trace-streams 64
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import procs
from bench.client import Stream, timed_stream
from bench.report import soak_summary
from bench.run import ROOT, Bench, Config, Target, cleanup
from bench.upstream_critique import bench_critique

STDLIB = str(Path(tracemalloc.__file__).resolve().parent)
APP = str(ROOT / "app") + "/"


@dataclass
class Wave:
    """RSS (bytes) around one wave of concurrent streams, and how the streams went."""

    streams: int
    baseline: int = 0
    live: int = 0  # median over about a second once every stream is live
    live_streams: int = 0  # streams the service was relaying at that moment
    peak: int = 0
    after: int = 0  # once the wave has ended
    results: list[Stream] = field(default_factory=list)
    snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)
    mappings: dict[str, dict[str, int]] = field(default_factory=dict)  # moment -> kind -> RSS

    def per_stream_kib(self, value: int, streams: int | None = None) -> float:
        return (value - self.baseline) / max(streams or self.streams, 1) / 1024


class Service:
    """One service under load: sign-up, warm-up, and reading its gauge and memory probe."""

    def __init__(self, bench: Bench, name: str, critique: bool, frames: int) -> None:
        extra = ("--tracemalloc", str(frames)) if frames else ("--memory-probe",)
        self.proc = bench.start_service(name, critique, *extra)
        self.target = Target(name, self.proc.port, "", self.proc, service=True)
        self.bench = bench
        self.base = f"http://127.0.0.1:{self.proc.port}"

    async def prepare(self, streams: int, warm_tokens: int) -> None:
        await self.bench.sign_up(self.target, streams)
        await self.bench.pace(tokens=warm_tokens)
        await self.bench.round(self.target, 10, spread=0.0)  # as the soak warms up

    async def active_streams(self, client: httpx.AsyncClient) -> int:
        text = (await client.get(f"{self.base}/metrics")).text
        for line in text.splitlines():
            if line.startswith("alliance_active_streams "):
                return int(float(line.split()[1]))
        return 0

    async def snapshot(
        self, client: httpx.AsyncClient, label: str, *, collect: bool = True
    ) -> dict[str, Any]:
        began = time.perf_counter()
        params = {"label": label, "collect": "1" if collect else "0"}
        response = await client.get(f"{self.base}/_bench/memory", params=params)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        result["seconds"] = time.perf_counter() - began
        return result


async def wave(
    service: Service, streams: int, seconds: float, spread: float, *, trace: bool
) -> Wave:
    """Open `streams` long turns; measure while all are live and after the wave ends."""
    proc = service.proc
    out = Wave(streams)
    async with httpx.AsyncClient(timeout=600) as client:
        out.snapshots["base"] = await service.snapshot(client, "base")
        await asyncio.sleep(1.0)
        out.baseline = proc.rss_bytes()
        out.mappings["baseline"] = mappings(proc)
        out.peak = out.baseline
        began = time.perf_counter()
        running = [
            asyncio.create_task(_one(service.target, index, spread * index / streams))
            for index in range(streams)
        ]
        sampler = asyncio.create_task(_sample_peak(proc, out))
        try:
            out.live_streams = await _until_live(service, client, streams, began, seconds)
            live = []
            for _ in range(20):
                live.append(proc.rss_bytes())
                await asyncio.sleep(0.05)
            out.live = int(statistics.median(live))
            out.mappings["live"] = mappings(proc)
            # Untraced, the peak goes on being read: no collection the service would not make.
            out.snapshots["live"] = await service.snapshot(client, "live", collect=trace)
            out.results = list(await asyncio.gather(*running))
        finally:
            sampler.cancel()
        await asyncio.sleep(2.0)  # the critiques and stores that follow the last replies
        out.after = proc.rss_bytes()
        out.mappings["after"] = mappings(proc)
        out.snapshots["after"] = await service.snapshot(client, "after")
    return out


async def _one(target: Target, index: int, delay: float) -> Stream:
    await asyncio.sleep(delay)
    body, headers = target.request(index)
    return await timed_stream(
        target.name, target.port, target.path_for(index), body, headers=headers, service=True
    )


async def _sample_peak(proc: procs.Proc, out: Wave) -> None:
    while True:
        out.peak = max(out.peak, proc.rss_bytes())
        await asyncio.sleep(0.05)


async def _until_live(
    service: Service, client: httpx.AsyncClient, streams: int, began: float, seconds: float
) -> int:
    """Wait until every stream is being relayed (or 80% of the wave's time has gone by)."""
    best = 0
    while time.perf_counter() - began < 0.8 * seconds:
        best = max(best, await service.active_streams(client))
        if best >= streams:
            break
        await asyncio.sleep(0.2)
    return best


def mappings(proc: procs.Proc) -> dict[str, int]:
    """RSS by kind of mapping, and the thread count: where memory outside Python's heap is.

    `[heap]` is the main thread's malloc arena (Python objects over 512 bytes among them);
    anonymous mappings hold pymalloc's arenas, large allocations and other threads' malloc
    arenas; an 8 MiB anonymous mapping is a thread's stack.
    """
    kinds: Counter[str] = Counter()
    kind = ""
    pid = proc.process.pid
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if "-" in fields[0] and len(fields) >= 5 and not fields[0].endswith(":"):
            start, end = (int(part, 16) for part in fields[0].split("-"))
            name = fields[5] if len(fields) > 5 else ""
            if name.startswith("["):
                kind = name
            elif name:
                kind = "files"
            elif end - start in (8 << 20, (8 << 20) + 4096):
                kind = "thread stacks"
            else:
                kind = "anonymous"
        elif fields[0] == "Rss:":
            kinds[kind] += int(fields[1]) * 1024
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            kinds["threads (count)"] = int(line.split()[1])
    return dict(kinds)


# -- the tracemalloc breakdown -----------------------------------------------------------------


def package(filename: str) -> str:
    if "/site-packages/" in filename:
        top = filename.split("/site-packages/", 1)[1].split("/", 1)[0]
        return top.removesuffix(".py").split(".", 1)[0]
    if filename.startswith(str(ROOT) + "/"):
        return filename[len(str(ROOT)) + 1 :]
    if filename.startswith(STDLIB + "/"):
        rest = filename[len(STDLIB) + 1 :]
        return "stdlib:" + rest.split("/", 1)[0].removesuffix(".py")
    return filename


def _short(filename: str) -> str:
    for marker in ("/site-packages/", str(ROOT) + "/", STDLIB + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


Key = Callable[[tracemalloc.Traceback], "str | set[str]"]


def grouped(snapshot: tracemalloc.Snapshot, key: Key) -> Counter[str]:
    sizes: Counter[str] = Counter()
    for trace in snapshot.traces:
        names = key(trace.traceback)
        for name in (names,) if isinstance(names, str) else names:
            sizes[name] += trace.size
    return sizes


def innermost(traceback: tracemalloc.Traceback) -> str:
    return package(traceback[-1].filename)


def outside_stdlib(traceback: tracemalloc.Traceback) -> str:
    for frame in reversed(traceback):
        name = package(frame.filename)
        if not name.startswith(("stdlib:", "<")):
            return name
    return "(stdlib only) " + package(traceback[-1].filename)


def app_frame(traceback: tracemalloc.Traceback) -> str:
    for frame in reversed(traceback):
        if frame.filename.startswith(APP):
            return f"{_short(frame.filename)}:{frame.lineno}"
    return "(no app/ frame in the traceback)"


def anywhere(traceback: tracemalloc.Traceback) -> set[str]:
    """Every package outside the standard library that the allocation passed through."""
    names = {package(frame.filename) for frame in traceback}
    return {name for name in names if not name.startswith(("stdlib:", "<"))}


def breakdown(workdir: Path, streams: int, top: int, out: Callable[[str], None]) -> None:
    base = tracemalloc.Snapshot.load(str(workdir / "memory-base.tracemalloc"))
    live = tracemalloc.Snapshot.load(str(workdir / "memory-live.tracemalloc"))
    after = tracemalloc.Snapshot.load(str(workdir / "memory-after.tracemalloc"))
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    base, live, after = (s.filter_traces(ignore) for s in (base, live, after))

    def total(snapshot: tracemalloc.Snapshot) -> int:
        return sum(t.size for t in snapshot.traces)

    out(
        f"traced: base {total(base) / 2**20:.1f} MiB, live {total(live) / 2**20:.1f} MiB, "
        f"after {total(after) / 2**20:.1f} MiB; per stream live "
        f"{(total(live) - total(base)) / streams / 1024:.1f} KiB, after "
        f"{(total(after) - total(base)) / streams / 1024:.1f} KiB"
    )
    out("\nby source line (allocating frame), bytes per stream while live  [after the wave]:")
    after_lines = {
        (s.traceback[0].filename, s.traceback[0].lineno): s.size_diff
        for s in after.compare_to(base, "lineno")
    }
    lines = sorted(live.compare_to(base, "lineno"), key=lambda s: s.size_diff, reverse=True)
    for stat in lines[:top]:
        frame = stat.traceback[0]
        left = after_lines.get((frame.filename, frame.lineno), 0)
        out(
            f"{stat.size_diff / streams:9.0f} B {stat.count_diff / streams:6.1f} blocks  "
            f"[{left / streams:7.0f} B]  {_short(frame.filename)}:{frame.lineno}"
        )
    groupings: list[tuple[str, Key]] = [
        ("by package of the allocating frame", innermost),
        ("by nearest frame outside the standard library", outside_stdlib),
        ("by package anywhere in the traceback (an allocation counts for each)", anywhere),
        ("by nearest frame in app/", app_frame),
    ]
    for title, key in groupings:
        before, during, later = grouped(base, key), grouped(live, key), grouped(after, key)
        names = set(before) | set(during)
        rows = sorted(names, key=lambda n: during[n] - before[n], reverse=True)
        out(f"\n{title}, bytes per stream while live  [after the wave]:")
        for name in rows[:top]:
            diff = during[name] - before[name]
            left = later[name] - before[name]
            out(f"{diff / streams:9.0f} B  [{left / streams:7.0f} B]  {name}")
    out("\nlargest sites with their tracebacks (while live):")
    sites = sorted(live.compare_to(base, "traceback"), key=lambda s: s.size_diff, reverse=True)
    for stat in sites[: max(3, top // 4)]:
        out(f"{stat.size_diff / streams:9.0f} B per stream, {stat.count_diff / streams:.1f} blocks")
        for line in stat.traceback.format(limit=8, most_recent_first=True):
            out("    " + line.strip())


def type_counts(snapshots: dict[str, dict[str, Any]], streams: int, top: int) -> list[str]:
    base, live = snapshots["base"]["types"], snapshots["live"]["types"]
    after = snapshots["after"]["types"]
    rows = sorted(live, key=lambda name: live[name] - base.get(name, 0), reverse=True)
    lines = [
        f"{(live[n] - base.get(n, 0)) / streams:7.2f}  "
        f"[{(after.get(n, 0) - base.get(n, 0)) / streams:6.2f}]  {n}"
        for n in rows[:top]
    ]
    garbage = []
    for label, s in snapshots.items():
        line = f"{label}: {s['collected_objects']} unreachable objects"
        if "traced_bytes" in s:
            line += (
                f", traced {s['traced_bytes'] / 2**20:.1f} MiB -> "
                f"{s['traced_after_collect'] / 2**20:.1f} MiB"
            )
        garbage.append(line)
    return [*garbage, "", *lines]


# -- the run -----------------------------------------------------------------------------------


HEAP_FIGURES = (
    ("pymalloc arenas", "pymalloc", "arenas allocated current", 1 << 20),
    ("pymalloc in blocks", "pymalloc", "bytes in allocated blocks", 1),
    ("malloc in use", "malloc", "in_use", 1),
    ("malloc free (kept)", "malloc", "free", 1),
    ("malloc mmapped", "malloc", "mmapped", 1),
)


def report_heaps(w: Wave, out: Callable[[str], None]) -> None:
    """How the increase is held: pymalloc (objects up to 512 bytes), malloc (the rest, and C)."""
    moments = [w.snapshots.get(m, {}) for m in ("base", "live", "after")]
    for title, part, key, unit in HEAP_FIGURES:
        values = [moment.get(part, {}).get(key, 0) * unit for moment in moments]
        added = [(v - values[0]) / w.streams / 1024 for v in values[1:]]
        out(
            f"  {title:<20} baseline {values[0] / 2**20:6.1f} MiB; per stream live "
            f"{added[0]:6.1f} KiB, after {added[1]:6.1f} KiB"
        )


def report_wave(name: str, w: Wave, tokens: int, out: Callable[[str], None]) -> None:
    complete = sum(1 for s in w.results if s.ok and len(s.arrivals) == tokens)
    errors = Counter(s.error for s in w.results if s.error).most_common(3)
    out(
        f"{name}: {w.streams} streams, {complete} complete, errors {errors or 0}; "
        f"{w.live_streams} relayed at once"
    )
    out(
        f"  RSS baseline {w.baseline / 2**20:.1f} MiB, all live {w.live / 2**20:.1f} MiB, "
        f"peak {w.peak / 2**20:.1f} MiB, after {w.after / 2**20:.1f} MiB"
    )
    out(
        f"  per stream: live {w.per_stream_kib(w.live):.1f} KiB "
        f"(per relayed stream {w.per_stream_kib(w.live, w.live_streams):.1f} KiB), "
        f"peak {w.per_stream_kib(w.peak):.1f} KiB, held after {w.per_stream_kib(w.after):.1f} KiB"
    )
    base = w.mappings.get("baseline", {})
    for kind in sorted(set(base) | set(w.mappings.get("live", {}))):
        values = [
            w.mappings.get(moment, {}).get(kind, 0) for moment in ("baseline", "live", "after")
        ]
        if kind.endswith("(count)"):
            out(f"  {kind:<20} baseline {values[0]}, live {values[1]}, after {values[2]}")
            continue
        if max(values) < 1 << 20:
            continue  # the kernel's small mappings ([vdso], [vvar], ...)
        added = [(v - values[0]) / w.streams / 1024 for v in values[1:]]
        out(
            f"  {kind:<20} baseline {values[0] / 2**20:6.1f} MiB; per stream live "
            f"{added[0]:6.1f} KiB, after {added[1]:6.1f} KiB"
        )
    report_heaps(w, out)


async def rss_phase(bench: Bench, args: argparse.Namespace, out: Callable[[str], None]) -> None:
    service = Service(bench, "service-rss", args.critique == "on", frames=0)
    await service.prepare(args.streams, warm_tokens=30)
    await bench.pace(tokens=args.tokens, rate=args.rate)
    seconds = args.tokens / args.rate
    measured = await wave(service, args.streams, seconds, bench.config.spread_s, trace=False)
    service.proc.stop()
    out(f"\n== RSS ({args.tokens} tokens at {args.rate:g}/s, critique {args.critique})")
    report_wave("untraced service", measured, args.tokens, out)
    out("\nlive objects per stream by type (gc-tracked)  [after the wave]:")
    for line in type_counts(measured.snapshots, args.streams, args.top):
        out(line)


async def traced_phase(bench: Bench, args: argparse.Namespace, out: Callable[[str], None]) -> None:
    service = Service(bench, "service-traced", args.critique == "on", frames=args.frames)
    streams = args.trace_streams or args.streams
    await service.prepare(streams, warm_tokens=30)
    tokens = args.trace_tokens
    await bench.pace(tokens=tokens, rate=args.trace_rate)
    seconds = args.trace_spread + tokens / args.trace_rate
    measured = await wave(service, streams, seconds, args.trace_spread, trace=True)
    service.proc.stop()
    out(
        f"\n== tracemalloc ({args.frames} frames; {streams} streams of {tokens} tokens at "
        f"{args.trace_rate:g}/s "
        f"starting over {args.trace_spread:g} s, as tracing slows the service)"
    )
    report_wave("traced service", measured, tokens, out)
    for label, snap in measured.snapshots.items():
        out(f"  snapshot {label}: the service stopped for {snap['seconds']:.1f} s to take it")
    live = max(measured.live_streams, 1)
    out(f"\n(figures per stream divide by the {live} streams relayed at the snapshot)")
    breakdown(bench.workdir, live, args.top, out)
    out("\nlive objects per stream by type (gc-tracked)  [after the wave]:")
    for line in type_counts(measured.snapshots, live, args.top):
        out(line)


async def soak_phase(bench: Bench, args: argparse.Namespace, out: Callable[[str], None]) -> None:
    config = bench.config
    service = Service(bench, "service-soak", True, frames=0)
    await bench.sign_up(service.target, args.streams)
    await bench.pace(tokens=config.tokens, rate=config.rate)
    raw = await bench.soak(service.target, args.streams, args.soak)
    service.proc.stop()
    summary = soak_summary(raw, config.tokens, config.stall_s)
    out(f"\n== soak ({args.streams} conversations, {args.soak:g} s, as `python -m bench`)")
    out(
        f"kib_per_session {summary['kib_per_session']:.1f} (baseline "
        f"{summary['rss_baseline_mib']:.1f} MiB, peak {summary['rss_peak_mib']:.1f} MiB), "
        f"{summary['turns']} turns, {summary['complete']} complete, "
        f"errors {summary['errors'] or 0}"
    )


async def _run(args: argparse.Namespace) -> None:
    config = Config(levels=[args.streams], litellm=None, soak_streams=args.streams)
    bench = Bench(config, log=print)
    try:
        bench.start_upstream()
        critique = bench_critique().model_dump_json()
        await bench.pace(first_token_ms=50.0, judge_ms=200.0, critique=critique)
        if args.rss:
            await rss_phase(bench, args, print)
        if args.frames:
            await traced_phase(bench, args, print)
        if args.soak:
            await soak_phase(bench, args, print)
    finally:
        cleanup(bench)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    parser.add_argument("--streams", type=int, default=256)
    parser.add_argument("--tokens", type=int, default=300, help="tokens per reply")
    parser.add_argument("--rate", type=float, default=30.0, help="tokens per second per stream")
    parser.add_argument("--critique", choices=["on", "off"], default="on")
    parser.add_argument("--frames", type=int, default=10, help="tracemalloc frames (0: skip)")
    parser.add_argument("--trace-streams", type=int, default=128, help="streams when traced")
    parser.add_argument("--trace-tokens", type=int, default=120, help="tokens when traced")
    parser.add_argument("--trace-rate", type=float, default=2.0, help="tokens/s when traced")
    parser.add_argument("--trace-spread", type=float, default=30.0, help="start-up when traced")
    parser.add_argument(
        "--rss", action=argparse.BooleanOptionalAction, default=True, help="the untraced wave"
    )
    parser.add_argument("--top", type=int, default=25, help="rows per table")
    parser.add_argument("--soak", type=float, default=0.0, help="also run the soak (seconds)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    asyncio.run(_run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
