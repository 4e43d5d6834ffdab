"""Turn a client scene into a model request, and a turn into the evaluator's request.

The client prompt is rendered from a profile that has no disclosure layers and no boundary
events in it: only `scene.visible_layers` and the one due event are passed, so material the
client has not unlocked cannot reach the model.
"""

from __future__ import annotations

from typing import Any

from app.dialogue import rules
from app.dialogue.scene import ClientScene
from app.evaluator.schema import JudgeInput, critique_json_schema
from app.llm.base import ChatMessage, ChatRequest
from app.personas import Persona
from app.prompts import Prompts

_STYLE_GUIDE = {
    "secure": "You can trust others and disagree with them; you tolerate silence and repair "
    "after misunderstandings.",
    "anxious": "You fear being too much and being left; you watch for signs of boredom or "
    "rejection and seek reassurance.",
    "avoidant": "You rely on yourself; depending on anyone feels risky, so you minimise, "
    "intellectualise and keep feelings at arm's length.",
    "disorganised": "You long for closeness and fear it at once; you can swing between "
    "idealising and distrusting the same person.",
}

_EVENT_INSTRUCTION = {
    "doorknob": "with the session nearly over, start to raise something important you have "
    "held back, as if it had only just occurred to you.",
    "run_over": "with the session nearly over, ask the counsellor for more time.",
    "confidentiality_probe": "test whether what you say here stays private.",
}


def _profile(persona: Persona) -> dict[str, Any]:
    identity = persona.identity
    return {
        "name": identity.name,
        "age": identity.age,
        "pronouns": identity.pronouns,
        "occupation": identity.occupation,
        "background": identity.background,
        "referral": identity.referral,
        "referral_note": identity.referral_note,
        "session_number": identity.session_number,
        "presenting_problem": persona.presenting_problem,
        "history": persona.history,
        "markers": persona.attachment.markers,
        "transference": persona.transference,
        "speech": persona.speech,
        "power_moves": persona.power_moves,
    }


def client_system_prompt(prompts: Prompts, scene: ClientScene) -> str:
    event = scene.due_event
    return prompts.render(
        "client.md.j2",
        profile=_profile(scene.persona),
        style_guide=_STYLE_GUIDE[scene.persona.style],
        visible_layers=scene.visible_layers,
        disclosed=scene.state.disclosed,
        guidance=rules.guidance(scene.state, scene.persona),
        due_event=(
            {"instruction": _EVENT_INSTRUCTION[event.kind], "line": event.lines[0]}
            if event is not None
            else None
        ),
        minutes_elapsed=scene.state.minutes_elapsed,
        minutes_left=scene.minutes_left,
        planned_minutes=scene.planned_minutes,
    )


def client_request(
    prompts: Prompts, scene: ClientScene, *, opening: str, max_tokens: int, temperature: float
) -> ChatRequest:
    messages = [ChatMessage("system", client_system_prompt(prompts, scene))]
    messages.append(ChatMessage("assistant", opening))
    for speaker, text in scene.history:
        messages.append(ChatMessage("user" if speaker == "counsellor" else "assistant", text))
    messages.append(ChatMessage("user", scene.trainee_text))
    return ChatRequest(
        messages=messages, max_tokens=max_tokens, temperature=temperature, scene=scene
    )


_DIMENSIONS = [
    {
        "name": "recognition",
        "principle": "the client as a separate subject with agency (mutual recognition).",
        "low": "dismissive, self-centred, or talks about the client instead of to them.",
        "high": "a tentative, correctable reflection of implicit meaning that leaves the client "
        "the author of their experience.",
        "not_applicable": "",
    },
    {
        "name": "authenticity",
        "principle": "do not fear being real; let yourself be recognised as a person.",
        "low": "scripted, defensive, or hiding behind technique.",
        "high": "present and direct about the here-and-now relationship, in the client's service.",
        "not_applicable": "",
    },
    {
        "name": "collaboration",
        "principle": "balance authority with collaboration.",
        "low": "imposes an agenda or advice without permission.",
        "high": 'makes the process itself joint ("how does it feel when we...") and adapts.',
        "not_applicable": "",
    },
    {
        "name": "power_awareness",
        "principle": "notice deference, flattery, challenge, resistance and testing.",
        "low": "ignores, argues, or capitulates.",
        "high": "validates, then names the dynamic tentatively and owns their own part.",
        "not_applicable": "when the client's last line shows no such marker.",
    },
    {
        "name": "boundaries",
        "principle": "time and confidentiality as a necessary use of power.",
        "low": "evasive, or rigid and punitive.",
        "high": "clear, owned, explained, and invites the client's reaction.",
        "not_applicable": "unless time or confidentiality is at issue in this moment.",
    },
]

_MARKERS = [
    "defer",
    "flatter",
    "challenge",
    "test",
    "resist",
    "withdraw",
    "confront",
    "boundary_probe",
    "none",
]


def evaluator_request(prompts: Prompts, judge_input: JudgeInput, *, max_tokens: int) -> ChatRequest:
    material = {
        "client": {
            "summary": judge_input.persona_summary,
            "attachment_style": judge_input.attachment_style,
        },
        "minutes_elapsed": round(judge_input.minutes_elapsed),
        "planned_minutes": judge_input.planned_minutes,
        "transcript": [
            {"speaker": speaker, "text": text} for speaker, text in judge_input.transcript
        ],
        "client_last_line": judge_input.client_last,
        "trainee_turn_to_assess": judge_input.trainee_text,
    }
    return ChatRequest(
        messages=[
            ChatMessage(
                "system",
                prompts.render("evaluator.md.j2", dimensions=_DIMENSIONS, markers=_MARKERS),
            ),
            ChatMessage("user", prompts.render("evaluator_input.md.j2", material=material)),
        ],
        max_tokens=max_tokens,
        temperature=0.0,
        json_schema=critique_json_schema(),
        schema_name="critique",
        scene=judge_input,
    )
