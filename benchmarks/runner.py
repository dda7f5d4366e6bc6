"""Run conversations, each in its own process so one variant's CPU never skews another's clock."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import structlog

from benchmarks.clips import Clip
from benchmarks.conversation import Conversation, Turn, Variant
from benchmarks.floor import ModelLatencies


@dataclass(frozen=True)
class Job:
    """One conversation: a variant, the clips it hears in order, and the unscored warm-up."""

    variant: Variant
    clips: tuple[Clip, ...]
    warmup: tuple[Clip, ...] = ()
    models: ModelLatencies = field(default_factory=ModelLatencies)
    settle: float = 0.5
    # (question, interjection) pairs played after the clips: the interjection starts
    # `interject_after` s into the reply to the question
    over_reply: tuple[tuple[Clip, Clip], ...] = ()
    interject_after: float = 2.0


def quiet_logs() -> None:
    """Keep the agent's JSON turn logs and the framework's warnings out of the tables."""
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("livekit").setLevel(logging.ERROR)
    logging.getLogger("livekit.agents").setLevel(logging.ERROR)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))


async def converse(job: Job) -> list[Turn]:
    """Play the warm-up clips, then the scored clips, one turn each, then the questions with
    an interjection over their reply."""
    from agent.server import load_local_models

    load_local_models()
    conversation = Conversation(job.variant, job.models)
    await conversation.start()
    try:
        for clip in job.warmup:
            await conversation.ask(clip, settle=job.settle)
        turns = [await conversation.ask(clip, settle=job.settle) for clip in job.clips]
        for question, interjection in job.over_reply:
            turns.append(
                await conversation.ask_over_reply(
                    question, interjection, after=job.interject_after, settle=job.settle
                )
            )
        return turns
    finally:
        await conversation.aclose()


def _run_in_process(job: Job) -> list[Turn]:
    quiet_logs()
    return asyncio.run(converse(job))


def run_jobs(jobs: Sequence[Job]) -> list[list[Turn]]:
    """Run every job at once, one process each; turns come back in job order."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(jobs), mp_context=context) as pool:
        return list(pool.map(_run_in_process, jobs))
