"""The long-lived parts of a running service, opened in the lifespan and closed after it."""

from __future__ import annotations

from dataclasses import dataclass

from app.dialogue.engine import EngineConfig, TurnEngine
from app.evaluator.judge import Evaluator
from app.limits import TurnLimits
from app.llm.base import ChatModel
from app.llm.registry import build_model
from app.observability.metrics import MeteredModel
from app.personas import Persona, load_personas
from app.prompts import Prompts
from app.settings import Settings
from app.storage.db import Database, open_database


@dataclass
class Services:
    settings: Settings
    database: Database
    personas: dict[str, Persona]
    prompts: Prompts
    client_model: ChatModel
    evaluator_model: ChatModel
    engine: TurnEngine

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        client_model: ChatModel | None = None,
        evaluator_model: ChatModel | None = None,
    ) -> Services:
        personas = load_personas(settings.personas_dir)
        prompts = Prompts(settings.prompts_dir)
        database = open_database(settings.database_url)
        await database.upgrade()
        client_raw = client_model or build_model(settings.client, role="client")
        judge_raw = evaluator_model or build_model(settings.evaluator, role="evaluator")
        # One wrapper per distinct model, so a model serving both roles is closed once.
        client: ChatModel = MeteredModel(client_raw, role="client")
        judge: ChatModel = (
            client if judge_raw is client_raw else MeteredModel(judge_raw, role="evaluator")
        )
        evaluator = Evaluator(
            model=judge, prompts=prompts, max_tokens=settings.evaluator.max_tokens
        )
        engine = TurnEngine(
            database=database,
            personas=personas,
            prompts=prompts,
            client_model=client,
            evaluator=evaluator,
            config=EngineConfig(
                planned_minutes=settings.planned_minutes,
                history_turns=settings.history_turns,
                max_turn_chars=settings.max_turn_chars,
                client_max_tokens=settings.client.max_tokens,
                client_temperature=settings.client.temperature,
                turn_max_seconds=settings.turn_max_seconds,
                guard_holdback_words=settings.guard_holdback_words,
            ),
            limits=TurnLimits(
                daily_token_budget=settings.daily_token_budget,
                max_concurrent_turns=settings.max_concurrent_turns,
                turn_max_seconds=settings.turn_max_seconds,
            ),
        )
        return cls(
            settings=settings,
            database=database,
            personas=personas,
            prompts=prompts,
            client_model=client,
            evaluator_model=judge,
            engine=engine,
        )

    async def close(self) -> None:
        await self.engine.drain(grace=10)
        await self.client_model.aclose()
        if self.evaluator_model is not self.client_model:
            await self.evaluator_model.aclose()
        await self.database.close()
