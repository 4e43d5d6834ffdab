"""CPU the character guard spends per relayed token, against re-checking the whole reply.

A real guard (a library persona, the real rendered client prompt) watches a clean client reply
of `--words` words, streamed as model-like tokens (a word with its leading space, punctuation
on its own). Two ways of watching it are timed in the same run, best of `--repeats`:

    watch      `StreamWatch` as the engine uses it (feed every token, then finish), plus the
               one full check of the finished reply that `keep_in_character` makes
    re-check   `CharacterGuard.check` on the whole reply so far each time a word completes,
               plus the same final check: the cost that grows with the square of the length

    python -m bench.guard_cpu [--words 150,600] [--repeats 30] [--holdback 0]
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable

from app.dialogue import rules
from app.dialogue.guard import CharacterGuard
from app.dialogue.prompting import client_request
from app.dialogue.scene import ClientScene
from app.personas import load_personas
from app.prompts import Prompts
from app.settings import PROJECT_ROOT

# A client talking, in Farid's voice, without a slip: repeated to the length asked for.
REPLY = (
    "Honestly, it's been a strange week. Tom rang on Sunday from Bergen and the line kept "
    "dropping, so we ended up just texting, which is never the same. I tried to sleep early "
    "on Monday but I was awake until three, scrolling through old photos of the two of us at "
    "the coast. Work was fine, busy, the usual queue at the counter and a locum who didn't "
    "know where anything lives. My sister keeps telling me to get out more, and maybe she's "
    "right, but by the time I get home I just want to sit with the telly on and not think. "
    "I don't know. It's four more months. People do this all the time, don't they? I suppose "
    "I thought I'd be better at it by now. "
)
_TOKEN = re.compile(r"\s*[A-Za-z']+|\s*[^\sA-Za-z']+")
_WORD_END = re.compile(r"[\s.,!?;:…]")


def build_guard(persona_id: str = "farid-anxious") -> CharacterGuard:
    who = load_personas(PROJECT_ROOT / "personas")[persona_id]
    state = rules.initial_state(who)
    shown = rules.visible_layers(state, who)
    scene = ClientScene(
        persona=who,
        state=state,
        visible_layers=shown,
        history=[("counsellor", "Hello, Farid."), ("client", "Hi. Sorry, I'm a bit early.")],
        trainee_text="What's been happening this week?",
        planned_minutes=50,
    )
    request = client_request(
        Prompts(PROJECT_ROOT / "prompts"),
        scene,
        opening=who.opening_lines[0],
        max_tokens=600,
        temperature=0.7,
    )
    return CharacterGuard.for_request(persona=who, visible_layers=shown, request=request)


def reply_tokens(words: int) -> list[str]:
    text = REPLY
    while len(text.split()) < words:
        text += REPLY
    return _TOKEN.findall(" ".join(text.split()[:words]))


def watched(guard: CharacterGuard, pieces: list[str], holdback: int) -> None:
    watch = guard.watch(holdback)
    relayed = "".join(watch.feed(piece) for piece in pieces) + watch.finish()
    if watch.slipped or guard.check(relayed) or relayed != "".join(pieces):
        raise SystemExit("the benchmark reply was flagged or not relayed whole: fix REPLY")


def rechecked(guard: CharacterGuard, pieces: list[str], _holdback: int) -> None:
    text = ""
    for piece in pieces:
        text += piece
        if _WORD_END.search(piece) and guard.check(text):
            raise SystemExit("the benchmark reply was flagged: fix REPLY")
    guard.check(text)


def best_of(run: Callable[[], None], repeats: int) -> float:
    times: list[float] = []
    for _ in range(repeats):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.guard_cpu", description=__doc__)
    parser.add_argument("--words", default="150,600", help="reply lengths, in words")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--holdback", type=int, default=0, help="words the watch holds back")
    args = parser.parse_args()
    guard = build_guard()
    print("| words | tokens | watch µs/token | re-check µs/token | re-check / watch |")
    print("|---:|---:|---:|---:|---:|")
    for words in (int(w) for w in args.words.split(",") if w):
        pieces = reply_tokens(words)
        cost: dict[str, float] = {}
        for name, way in (("watch", watched), ("re-check", rechecked)):

            def run(way: Callable[..., None] = way, pieces: list[str] = pieces) -> None:
                way(guard, pieces, args.holdback)

            cost[name] = best_of(run, args.repeats) / len(pieces) * 1e6
        print(
            f"| {words} | {len(pieces)} | {cost['watch']:.1f} | {cost['re-check']:.1f} "
            f"| {cost['re-check'] / cost['watch']:.1f}× |"
        )


if __name__ == "__main__":
    main()
