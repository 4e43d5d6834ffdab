"""Turn a client scene into a model request (the evaluator's request is built in
`app.evaluator.prompt` and re-exported here).

The client prompt is rendered from a profile that has no disclosure layers and no boundary
events in it: only `scene.visible_layers` and the one due event are passed, so material the
client has not unlocked cannot reach the model.
"""

from __future__ import annotations

from typing import Any

from app.dialogue import rules
from app.dialogue.scene import ClientScene
from app.evaluator.prompt import evaluator_request
from app.llm.base import ChatMessage, ChatRequest
from app.personas import Persona
from app.prompts import Prompts

__all__ = ["client_now_note", "client_request", "client_system_prompt", "evaluator_request"]

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
    """The stable part: who the client is. It changes only when a new layer opens."""
    return prompts.render(
        "client.md.j2",
        profile=_profile(scene.persona),
        style_guide=_STYLE_GUIDE[scene.persona.style],
        visible_layers=scene.visible_layers,
        disclosed=scene.state.disclosed,
    )


def client_now_note(prompts: Prompts, scene: ClientScene) -> str:
    """What changes every turn: the clock, the state's guidance and any due event."""
    event = scene.due_event
    return prompts.render(
        "client_now.md.j2",
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
    # Stable first, changing last: the system prompt and the conversation so far form a prefix
    # that is identical from one turn to the next, which provider prompt caches reuse.
    messages = [ChatMessage("system", client_system_prompt(prompts, scene))]
    messages.append(ChatMessage("assistant", opening))
    for speaker, text in scene.history:
        messages.append(ChatMessage("user" if speaker == "counsellor" else "assistant", text))
    messages.append(ChatMessage("system", client_now_note(prompts, scene)))
    messages.append(ChatMessage("user", scene.trainee_text))
    return ChatRequest(
        messages=messages, max_tokens=max_tokens, temperature=temperature, scene=scene
    )
