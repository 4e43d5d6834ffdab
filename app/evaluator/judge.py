"""The evaluator: a critique for every trainee turn, whatever the model does.

With an offline model the heuristic judge answers directly. With an LLM the JSON is validated
twice over: against the schema (types, ranges, required fields) and against the turn itself
(evidence must be the trainee's own words; a repair verdict only when there was a repair to
judge; power awareness not applicable without a client marker). One repair attempt is made with
the problems listed; if that fails too, or the model is unreachable, the heuristic judge fills
in and the critique says so (`source="offline_fallback"`). Logs carry error kinds, never text.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, replace

from pydantic import ValidationError

from app.errors import LLMError
from app.evaluator import heuristic
from app.evaluator.normalise import normalise
from app.evaluator.prompt import evaluator_request
from app.evaluator.rubric import RUBRIC_FILE, Rubric, load_rubric
from app.evaluator.schema import DIMENSIONS, Critique, JudgeInput
from app.llm.base import ChatMessage, ChatModel, Usage
from app.prompts import Prompts

log = logging.getLogger(__name__)


class CritiqueMismatch(ValueError):
    """A critique that fits the schema but not the turn it is about."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def parse_critique(text: str) -> Critique:
    """Validate a model's JSON; tolerate a fenced block or prose around one object."""
    candidate = text.strip()
    if not candidate.startswith("{"):
        start, end = candidate.find("{"), candidate.rfind("}")
        if start != -1 and end > start:
            candidate = candidate[start : end + 1]
    data = json.loads(candidate)
    if isinstance(data, dict):
        data.pop("source", None)
        data.pop("judge", None)
    return Critique.model_validate(data)


_QUOTED = re.compile(r"[\"“”«»]([^\"“”«»]+)[\"“”«»]")
_ELLIPSIS = re.compile(r"\.\.\.|…|\[\.\.\.\]")
_EDGES = " \t\n.,;:!?'-()[]"


def _flat(text: str) -> str:
    return " ".join(normalise(text).replace("…", "...").casefold().split())


def quoted_from(evidence: str, turn: str) -> bool:
    """Whether every quoted fragment of `evidence` is copied from `turn`.

    Evidence may hold several quotations, each in quotation marks, and may shorten one with an
    ellipsis; case, whitespace and look-alike characters are ignored. Unquoted evidence must be
    copied as a whole."""
    fragments = _QUOTED.findall(evidence) or [evidence]
    source = _flat(turn)
    pieces = [
        piece.strip(_EDGES) for fragment in fragments for piece in _ELLIPSIS.split(_flat(fragment))
    ]
    pieces = [p for p in pieces if p]
    return bool(pieces) and all(p in source for p in pieces)


def check_against_turn(critique: Critique, judge_input: JudgeInput) -> Critique:
    """The critique, if it fits the turn it is about; otherwise `CritiqueMismatch`."""
    problems: list[str] = []
    for name in DIMENSIONS:
        rating = critique.rating(name)
        if not rating.applicable:
            continue
        if not rating.evidence.strip():
            problems.append(f"{name}.evidence: quote the trainee's words that support the score")
        elif not quoted_from(rating.evidence, judge_input.trainee_text):
            problems.append(
                f"{name}.evidence: copy the words exactly from trainee_turn_to_assess, in "
                "quotation marks; do not paraphrase or quote the client"
            )
    if critique.client_marker == "none" and critique.power_awareness.applicable:
        problems.append(
            "power_awareness: with client_marker none there is no power move to notice; mark "
            "it not applicable with a reason, or name the marker you see"
        )
    if judge_input.previous_repair and critique.repair_landed is None:
        problems.append(
            "repair_landed: the previous turn was a repair attempt; say true or false from the "
            "client's last line"
        )
    if problems:
        raise CritiqueMismatch(problems)
    if not judge_input.previous_repair and critique.repair_landed is not None:
        # Nothing to judge: a verdict here can only be noise, so it is dropped, not repaired.
        critique = critique.model_copy(update={"repair_landed": None})
    return critique


@dataclass(frozen=True, slots=True)
class Assessment:
    critique: Critique
    usage: Usage


class Evaluator:
    def __init__(
        self,
        *,
        model: ChatModel,
        prompts: Prompts,
        max_tokens: int,
        rubric: Rubric | None = None,
    ) -> None:
        self.model = model
        self.prompts = prompts
        self.max_tokens = max_tokens
        # Read at start-up so that a broken rubric stops the service with a clear error.
        self.rubric = rubric or load_rubric(prompts.directory / RUBRIC_FILE)

    @property
    def label(self) -> str:
        return self.model.label

    async def critique(self, judge_input: JudgeInput) -> Critique:
        return (await self.assess(judge_input)).critique

    async def assess(self, judge_input: JudgeInput) -> Assessment:
        """The critique and the tokens it cost (a repair attempt included), for budgets."""
        if self.model.offline:
            return Assessment(heuristic.judge(judge_input), Usage())
        spent = Usage()
        request = evaluator_request(
            self.prompts, judge_input, max_tokens=self.max_tokens, rubric=self.rubric
        )
        try:
            completion = await self.model.complete_json(request)
            spent = spent + completion.usage
            try:
                critique = check_against_turn(parse_critique(completion.text), judge_input)
            except (ValueError, ValidationError) as first:
                log.info(
                    "judge output invalid, asking for one repair",
                    extra={"kind": type(first).__name__},
                )
                repair = replace(
                    request,
                    messages=[
                        *request.messages,
                        ChatMessage("assistant", completion.text[:4000]),
                        ChatMessage(
                            "user",
                            "That reply did not match the schema: "
                            f"{describe(first)} Reply again with one corrected JSON object only.",
                        ),
                    ],
                )
                completion = await self.model.complete_json(repair)
                spent = spent + completion.usage
                critique = check_against_turn(parse_critique(completion.text), judge_input)
        except (LLMError, ValueError, ValidationError) as exc:
            log.warning(
                "judge unavailable, offline judge fills in", extra={"kind": type(exc).__name__}
            )
            fallback = heuristic.judge(judge_input)
            return Assessment(fallback.model_copy(update={"source": "offline_fallback"}), spent)
        return Assessment(
            critique.model_copy(update={"source": "llm", "judge": self.model.label}), spent
        )


def describe(error: Exception) -> str:
    """The problems in a judge's reply, worded for the model that is asked to repair it."""
    if isinstance(error, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in item['loc']) or 'object'}: {item['msg']}"
            for item in error.errors()[:10]
        ]
        return "; ".join(parts) + "."
    if isinstance(error, CritiqueMismatch):
        return "; ".join(error.problems[:10]) + "."
    return "it was not valid JSON."
