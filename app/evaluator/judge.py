"""The evaluator: a critique for every trainee turn, whatever the model does.

With an offline model the heuristic judge answers directly. With an LLM the JSON is validated;
one repair attempt is made with the validation errors; if that fails too, or the model is
unreachable, the heuristic judge fills in and the critique says so (`offline_fallback`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace

from pydantic import ValidationError

from app.dialogue.prompting import evaluator_request
from app.errors import LLMError
from app.evaluator import heuristic
from app.evaluator.schema import Critique, JudgeInput
from app.llm.base import ChatMessage, ChatModel
from app.prompts import Prompts

log = logging.getLogger(__name__)


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


class Evaluator:
    def __init__(self, *, model: ChatModel, prompts: Prompts, max_tokens: int) -> None:
        self.model = model
        self.prompts = prompts
        self.max_tokens = max_tokens

    @property
    def label(self) -> str:
        return self.model.label

    async def critique(self, judge_input: JudgeInput) -> Critique:
        if self.model.offline:
            return heuristic.judge(judge_input)
        request = evaluator_request(self.prompts, judge_input, max_tokens=self.max_tokens)
        try:
            completion = await self.model.complete_json(request)
            try:
                critique = parse_critique(completion.text)
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
                            f"{_describe(first)} Reply again with one corrected JSON object only.",
                        ),
                    ],
                )
                completion = await self.model.complete_json(repair)
                critique = parse_critique(completion.text)
        except (LLMError, ValueError, ValidationError) as exc:
            log.warning(
                "judge unavailable, offline judge fills in", extra={"kind": type(exc).__name__}
            )
            fallback = heuristic.judge(judge_input)
            return fallback.model_copy(update={"source": "offline_fallback"})
        return critique.model_copy(update={"source": "llm", "judge": self.model.label})


def _describe(error: Exception) -> str:
    if isinstance(error, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in item['loc']) or 'object'}: {item['msg']}"
            for item in error.errors()[:10]
        ]
        return "; ".join(parts) + "."
    return "it was not valid JSON."
