"""The character guard while a reply streams: what is relayed and when, with and without a
holdback, and that the watch's work stays proportional to the reply.

The guard, the slips and the ordinary speech are those of `tests/test_guard.py`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, fields
from typing import Any

import pytest

from app.dialogue.guard import CharacterGuard, Slip
from app.dialogue.watch import StreamWatch
from app.llm.base import ChatRequest, StreamChunk
from tests.doubles import FunctionModel, words
from tests.test_guard import CLEAN, SLIPS, guard_for

_TOKEN = re.compile(r"\s*[A-Za-z']+|\s*[^\sA-Za-z']+")


def model_tokens(text: str) -> list[str]:
    """The reply in pieces as a model streams it: words with their space, punctuation apart."""
    return _TOKEN.findall(text)


def stream_through(
    guard: CharacterGuard, text: str, holdback: int = 3, pieces: list[str] | None = None
) -> tuple[str, bool]:
    watch = guard.watch(holdback)
    pieces = pieces if pieces is not None else [w + " " for w in text.split(" ")]
    relayed = "".join(watch.feed(piece) for piece in pieces)
    relayed += watch.finish()
    return relayed, watch.slipped


@pytest.mark.parametrize("holdback", [0, 3])
def test_a_clean_reply_is_relayed_whole(holdback: int) -> None:
    text = "Tom's still away, obviously. Four more months, and I'm counting."
    relayed, slipped = stream_through(guard_for(), text, holdback, model_tokens(text))
    assert not slipped
    assert relayed == text


def test_without_holdback_each_piece_is_relayed_as_it_arrives() -> None:
    text = "Tom's still away, obviously. Four more months, and I'm counting."
    watch = guard_for().watch(0)
    pieces = model_tokens(text)
    assert [watch.feed(piece) for piece in pieces] == pieces
    assert watch.finish() == ""


def test_the_first_piece_is_relayed_before_the_guard_is_built() -> None:
    """Building the guard reads the whole request; the first word should not wait for it."""
    built: list[CharacterGuard] = []

    def build() -> CharacterGuard:
        built.append(guard_for())
        return built[-1]

    watch = StreamWatch(build, holdback_words=0)
    assert (watch.feed("Honestly"), built) == ("Honestly", [])
    assert watch.feed(",") == ","
    assert len(built) == 1
    assert watch.feed(" as") == " as"
    assert (watch.feed(" an"), watch.feed(" AI"), watch.feed(" language")) == (" an", " AI", "")
    assert watch.slipped
    assert len(built) == 1


def test_with_holdback_the_relay_runs_that_many_words_behind() -> None:
    watch = guard_for().watch(3)
    assert [watch.feed(w) for w in ["Tom's ", "still ", "away ", "and ", "I'm "]] == [
        "",
        "",
        "",
        "Tom's ",
        "still ",
    ]
    assert watch.finish() == "away and I'm "


@pytest.mark.parametrize(
    ("kind", "reply"), SLIPS, ids=[f"{k}-{i}" for i, (k, _) in enumerate(SLIPS)]
)
@pytest.mark.parametrize("holdback", [0, 3])
def test_the_watch_catches_every_slip_the_full_check_catches(
    kind: str, reply: str, holdback: int
) -> None:
    _, slipped = stream_through(guard_for(), reply, holdback, model_tokens(reply))
    assert slipped, (kind, reply)


PHRASE_SLIPS = [(kind, reply) for kind, reply in SLIPS if kind != "hidden_layer"]


@pytest.mark.parametrize(
    ("kind", "reply"), PHRASE_SLIPS, ids=[f"{k}-{i}" for i, (k, _) in enumerate(PHRASE_SLIPS)]
)
def test_a_slip_phrase_is_caught_at_its_last_word_not_at_the_full_stop(
    kind: str, reply: str
) -> None:
    """The cheap first look for each family of phrases lets every known slip through to the
    full pattern as soon as the slip's last word is complete, mid-sentence."""
    guard = guard_for()
    slip = next(s for s in guard.check(reply) if s.kind == kind)
    found = reply.lower().find(slip.detail.lower())
    # A phrase ends where it was found; a run of the instructions, before the full stop.
    end = found + len(slip.detail) if found >= 0 else len(reply.rstrip(".?!"))
    watch = guard.watch(0)
    for piece in [*model_tokens(reply[:end]), " and"]:  # " and": the last word is complete
        watch.feed(piece)
    assert any(s.kind == kind for s in watch.slips), (reply, slip.detail)


@pytest.mark.parametrize("reply", CLEAN)
def test_the_watch_relays_ordinary_client_speech_whole(reply: str) -> None:
    relayed, slipped = stream_through(guard_for(), reply, 0, model_tokens(reply))
    assert (relayed, slipped) == (reply, False)


def test_relaying_stops_before_the_slip_is_shown() -> None:
    relayed, slipped = stream_through(
        guard_for(), "I'm okay. As an AI language model I do not sleep, but thanks."
    )
    assert slipped
    assert "AI" not in relayed
    assert relayed  # what came before the slip was on its way
    assert "I'm okay. ".startswith(relayed)


def test_without_holdback_relaying_stops_at_the_word_that_completes_a_slip() -> None:
    relayed, slipped = stream_through(
        guard_for(), "I'm okay. As an AI language model I do not sleep, but thanks.", 0
    )
    assert slipped
    # The slip's first words were shown; the word that completed it and the rest were not.
    assert relayed == "I'm okay. As an "


def test_a_leak_of_a_locked_layer_is_caught_while_streaming() -> None:
    relayed, slipped = stream_through(
        guard_for(),
        "Work's fine. It's just, when I was eleven, I came home and found my mum, and there was "
        "an ambulance, and the tablets.",
    )
    assert slipped
    assert "ambulance" not in relayed
    assert "tablets" not in relayed


def test_a_reply_that_opens_with_a_slip_shows_nothing() -> None:
    relayed, slipped = stream_through(guard_for(), "As an AI, I can't be Farid.")
    assert slipped
    assert relayed == ""


@dataclass
class CountingGuard(CharacterGuard):
    """A guard that counts the characters it is asked to search for phrases anew."""

    checked: int = 0

    def phrase_slips(self, sentence: str, *, since: int = 0) -> list[Slip]:
        self.checked += len(sentence) - since
        return super().phrase_slips(sentence, since=since)


def test_each_part_of_a_long_reply_is_checked_a_bounded_number_of_times() -> None:
    """The watch's work grows with the reply, not with its square: ten times the reply costs
    about ten times the checking, however many words are streamed."""
    sentence = (
        "Tom rang on Sunday from Bergen and the line kept dropping, so we ended up just "
        "texting, which is never the same. "
    )

    def checked_characters(copies: int) -> int:
        guard = guard_for()
        counting = CountingGuard(**{f.name: getattr(guard, f.name) for f in fields(guard)})
        relayed, slipped = stream_through(counting, "", 0, model_tokens(sentence * copies))
        assert (relayed, slipped) == ((sentence * copies).strip(), False)
        return counting.checked

    one, ten = checked_characters(3), checked_characters(30)
    assert ten <= 11 * one
    # Each character is searched once as the sentence grows and once in the finished sentence.
    assert one <= 2 * len(sentence) * 3


# -- through the API ------------------------------------------------------------------------------


@pytest.mark.parametrize("holdback", [0, 3])
async def test_a_holdback_keeps_the_slip_out_of_every_delta(
    make_harness: Any, holdback: int
) -> None:
    reply = "Tom's still away, and I'm not sleeping. As an AI language model, I don't sleep."
    kept = "Tom's still away, and I'm not sleeping."

    async def client(_request: ChatRequest) -> AsyncIterator[StreamChunk]:
        async for chunk in words(reply):
            yield chunk

    async with make_harness(
        client_model=FunctionModel(stream=client), guard_holdback_words=holdback
    ) as h:
        await h.sign_in()
        session = await h.start("farid-anxious")
        events = await h.turn(session["id"], "How have you been sleeping?")
        streamed = "".join(d["text"] for n, d in events if n == "delta")
        assert next(d for n, d in events if n == "reply")["text"] == kept
        stored = (await h.client.get(f"/api/sessions/{session['id']}")).json()["turns"][0]
        assert stored["reply"] == kept
    if holdback:
        assert kept.startswith(streamed)  # not a word of the slip was relayed
        assert streamed.startswith("Tom's still away")
    else:
        assert streamed == "Tom's still away, and I'm not sleeping. As an AI"
