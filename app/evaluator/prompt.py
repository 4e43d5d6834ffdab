"""The evaluator's request: the rubric in the system message, the turn as JSON data after it.

Trainee and client text never enters the system message. It reaches the model only inside one
JSON document whose strings are escaped so that nothing in them can end the data block: quotes
and newlines by JSON itself, and backticks, angle brackets and invisible format characters as
`\\uXXXX` escapes (so "```", "</data>" and zero-width tricks stay inert). Decoding the block
gives back the exact text.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from app.evaluator.rubric import RUBRIC_FILE, Rubric, load_rubric
from app.evaluator.schema import JudgeInput, critique_json_schema
from app.llm.base import ChatMessage, ChatRequest
from app.prompts import Prompts

_ALWAYS_ESCAPED = frozenset("`<>")


def _escape(ch: str) -> str:
    if ch == "\n":
        return ch  # indentation; newlines inside strings are already escaped by JSON
    if ch in _ALWAYS_ESCAPED or unicodedata.category(ch) in ("Cf", "Zl", "Zp", "Cc"):
        return "".join(f"\\u{unit:04x}" for unit in _utf16_units(ch))
    return ch


def _utf16_units(ch: str) -> list[int]:
    data = ch.encode("utf-16-be")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def encode_material(material: Any) -> str:
    """JSON for the data block. Characters outside strings are all ASCII punctuation, so the
    escapes only ever apply inside strings, where JSON allows them."""
    text = json.dumps(material, ensure_ascii=False, indent=1)
    return "".join(_escape(ch) for ch in text)


def material_for(judge_input: JudgeInput) -> dict[str, Any]:
    return {
        "client": {
            "summary": judge_input.persona_summary,
            "attachment_style": judge_input.attachment_style,
        },
        "minutes_elapsed": round(judge_input.minutes_elapsed),
        "planned_minutes": judge_input.planned_minutes,
        "transcript": [
            {"speaker": speaker, "text": text} for speaker, text in judge_input.transcript
        ],
        "previous_turn_was_repair_attempt": judge_input.previous_repair,
        "client_last_line": judge_input.client_last,
        "trainee_turn_to_assess": judge_input.trainee_text,
    }


def system_prompt(prompts: Prompts, rubric: Rubric) -> str:
    return prompts.render("evaluator.md.j2", rubric=rubric)


def evaluator_request(
    prompts: Prompts, judge_input: JudgeInput, *, max_tokens: int, rubric: Rubric | None = None
) -> ChatRequest:
    """The judge's request. Without `rubric`, the one in the prompts folder is read."""
    rubric = rubric or load_rubric(prompts.directory / RUBRIC_FILE)
    material = encode_material(material_for(judge_input))
    return ChatRequest(
        messages=[
            ChatMessage("system", system_prompt(prompts, rubric)),
            ChatMessage("user", prompts.render("evaluator_input.md.j2", material=material)),
        ],
        max_tokens=max_tokens,
        temperature=0.0,
        json_schema=critique_json_schema(),
        schema_name="critique",
        scene=judge_input,
    )
