"""Watching a client reply while it streams: relay it, and stop relaying at the first slip.

The watch sits on the relay path, so its work per piece must not grow with the reply. It keeps
only the sentence being written; each finished sentence is checked once, in full, and dropped.
While a sentence is being written, every completed word is checked with what came before it
within reach (a phrase's length, eight words for a run of the instructions, the sentence's words
so far for a locked layer's line), so a slip is caught as soon as its last word is written, not
only at the full stop, and a word costs the same however long the sentence. The locked layers'
own words are counted as new words arrive.

How far behind the model the relay runs is a setting (`guard_holdback_words`):

    0   each piece is relayed as it arrives; a piece that completes a word is checked first.
        The first word reaches the trainee at once. A slip may be shown in part (up to the word
        that completes it) until the turn's `reply` event replaces the streamed text.
    n   only words at least n complete words behind the model are relayed, so a slip caught
        within n words of its start is never shown; the first word waits for n more words.

Whichever way, after a slip nothing more is relayed; the engine repairs the whole reply and
sends it as `reply`, whose text replaces what was streamed (frontend/static/session.js
`onReply`). The guard itself (about a millisecond of work on the request) is built when the
first word completes, not before the model is called, so it stays off the time to first token.
The watch never logs or stores the text.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.dialogue.guard import MIN_DISTINCTIVE, SHINGLE, Slip, sentences, stems_of, tokens

if TYPE_CHECKING:
    from app.dialogue.guard import CharacterGuard

# A finished sentence ends after its closing punctuation (and a closing quote), once the next
# character shows the punctuation is over, or at a line break: the same splits as `sentences`.
_SENTENCE_END = re.compile(r"[.!?…]+[\"”’']?(?=[^.!?…\"”’'])|\n")
_CLOSERS = frozenset(".!?…\"”’'")
# A word is complete once a character that cannot continue it arrives (as `tokens` reads words).
_NOT_WORD = re.compile(r"[^A-Za-z']")
_WORD_GAP = re.compile(r"\S\s")
# Long enough for the longest counsellor phrase or instruction shingle the guard looks for.
_WINDOW = 240


class StreamWatch:
    """Relays a streamed reply `holdback_words` complete words behind the model; stops at a slip."""

    def __init__(self, build: Callable[[], CharacterGuard], *, holdback_words: int = 0) -> None:
        self._build = build
        self._guard: CharacterGuard | None = None
        self.holdback_words = max(0, holdback_words)
        self.slips: list[Slip] = []
        self._open = ""  # the sentence being written: everything after the last finished one
        self._word = ""  # the letters of a word not yet complete (for the layers' words)
        self._unrelayed = ""  # text received but not relayed yet
        self._length = 0  # characters received
        self._relayed = 0  # characters relayed
        self._word_ends: deque[int] = deque(maxlen=self.holdback_words + 1)
        self._last = " "  # the last character received
        self._stems: set[str] = set()
        self._checked = 0  # how much of the sentence being written was checked
        self._heard: set[str] = set()  # the words of the sentence being written
        self._recent: list[str] = []  # its last words, enough for a run of the instructions
        self._shared: dict[str, int] = {}  # per locked layer: how many of its words were said

    @property
    def guard(self) -> CharacterGuard:
        """The guard for this reply, built on first use."""
        if self._guard is None:
            self._guard = self._build()
        return self._guard

    def prepare(self) -> None:
        """Build the guard now: called while the model is still working on its first token."""
        _ = self.guard

    @property
    def slipped(self) -> bool:
        return bool(self.slips)

    def feed(self, piece: str) -> str:
        """Take the next piece of the reply; return the text that may be relayed now."""
        if not piece:
            return ""
        start = self._length
        self._length += len(piece)
        if self.slipped:
            return ""
        self._unrelayed += piece
        self._note_word_ends(piece, start)
        completed = _last_match_end(_NOT_WORD, piece)
        if completed:
            self._check(piece, completed)
            if self.slipped:
                return ""
        else:
            self._open += piece
            self._word += piece
        return self._release(self._safe_end())

    def finish(self) -> str:
        """At the end of the stream: the rest of the reply, unless it slipped."""
        if not self.slipped:
            self._add_stems(tokens(self._word), self._word)
            self._word = ""
            for sentence in sentences(self._open):
                self.slips.extend(self.guard.sentence_slips(sentence))
            self._open = ""
        if self.slipped:
            return ""
        return self._release(self._length)

    # -- checking -------------------------------------------------------------------------------

    def _check(self, piece: str, completed: int) -> None:
        """Check what `piece` completes: `completed` is where its last complete word ends."""
        completed_text = self._word + piece[:completed]
        new_words = tokens(completed_text)
        self._add_stems(new_words, completed_text)
        self._word = piece[completed:]
        before = len(self._open)
        self._open += piece
        # A sentence end can begin in earlier text ("?" then '"' then " "): look back over it.
        scan_from = before
        while scan_from > 0 and self._open[scan_from - 1] in _CLOSERS:
            scan_from -= 1
        finished = _last_match_end(_SENTENCE_END, self._open, scan_from)
        if finished:
            for sentence in sentences(self._open[:finished]):
                self.slips.extend(self.guard.sentence_slips(sentence))
            self._open = self._open[finished:]
            # The new sentence's words so far: few, counted afresh.
            new_words = tokens(self._open[: len(self._open) - len(self._word)])
            self._checked, self._heard, self._recent = 0, set(), []
        if self.slipped:
            return
        # The sentence being written, up to its last complete word, within the window.
        end = len(self._open) - len(self._word)
        start = max(0, end - _WINDOW)
        written = self._open[start:end]
        if start:
            cut = written.find(" ") + 1  # from the first whole word in the window
            written, start = written[cut:], start + cut
        since = max(0, self._checked - start)
        self._checked = end
        if not written.strip():
            return
        self.slips.extend(self.guard.phrase_slips(written, since=since))
        self._check_words(written, new_words)

    def _check_words(self, written: str, new_words: list[str]) -> None:
        """The word checks for the words just completed, with the sentence's words so far."""
        fresh = set(new_words) - self._heard
        self._heard |= fresh
        self._recent = (self._recent + new_words)[-(SHINGLE - 1 + len(new_words)) :]
        # Only a line sharing a word just heard can have become covered.
        layers = [layer for layer in self.guard.locked if any(fresh & line for line in layer.lines)]
        self.slips.extend(self.guard.word_slips(written, self._recent, self._heard, layers))
        self._recent = self._recent[-(SHINGLE - 1) :]

    def _add_stems(self, words: list[str], text: str) -> None:
        new = stems_of(words) - self._stems
        if not new:
            return
        self._stems |= new
        for layer in self.guard.locked:
            shared = len(layer.distinctive & new)
            if shared:
                self._shared[layer.id] = self._shared.get(layer.id, 0) + shared
                if self._shared[layer.id] >= MIN_DISTINCTIVE:
                    self.slips.extend(self.guard.stem_slips(self._stems, text))
                    return

    # -- relaying -------------------------------------------------------------------------------

    def _note_word_ends(self, piece: str, start: int) -> None:
        """Remember where the last `holdback_words + 1` complete words end (after their space)."""
        if not self.holdback_words:
            return
        joined = self._last + piece
        for match in _WORD_GAP.finditer(joined):
            self._word_ends.append(start + match.end() - 1)
        self._last = piece[-1]

    def _safe_end(self) -> int:
        """Where the relayed text may end now."""
        if not self.holdback_words:
            return self._length
        if len(self._word_ends) <= self.holdback_words:
            return self._relayed
        return self._word_ends[0]

    def _release(self, end: int) -> str:
        if end <= self._relayed:
            return ""
        count = end - self._relayed
        out, self._unrelayed = self._unrelayed[:count], self._unrelayed[count:]
        self._relayed = end
        return out


def _last_match_end(pattern: re.Pattern[str], text: str, pos: int = 0) -> int:
    """The end of the last match of `pattern` in `text` from `pos`, or 0 if there is none."""
    end = 0
    for match in pattern.finditer(text, pos):
        end = match.end()
    return end
