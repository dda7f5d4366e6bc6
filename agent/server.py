"""The AgentServer: registration under the region-tagged name, prewarm, and one rtc_session."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import livekit.local_inference as local_inference
import structlog
from livekit.agents import AgentServer, CloseEvent, JobContext, JobProcess, JobRequest

from agent.audio_cache import new_store_dir
from agent.completeness import EnglishTrigram, Tagger
from agent.pipeline import PipelineSettings, build_session
from agent.prompt import BACK_AFTER_FAILOVER
from agent.providers import Models, build_models
from agent.response_cache import ResponseCache
from agent.settings import AgentSettings
from agent.takeover import (
    ConversationMirror,
    answer_alive,
    failover_note,
    history,
    still_answers,
    withdraw,
)
from agent.telemetry import TurnTelemetry
from agent.turn_handling import DEFAULT_TURN_SETTINGS
from meridian.contract import REGION_ATTRIBUTE, REVISION_ATTRIBUTE
from meridian.logs import configure_logging

# What prewarm leaves in each job process's userdata: the VAD and the response cache.
PROC_VAD = "meridian.vad"
PROC_RESPONSE_CACHE = "meridian.response_cache"
# imported once in the forkserver, so job processes share the turn gate's model
PRELOAD_MODULE = "agent.preload"


def load_local_models() -> None:
    """Load the local VAD and end-of-turn weights (they ship in livekit-local-inference) and
    the turn gate's English trigram model (it ships in pocketsphinx) and tagger (in textblob)."""
    local_inference.init_vad()
    local_inference.init_eot()
    EnglishTrigram.shipped()
    Tagger.shipped()


def prewarm(settings: AgentSettings, proc: JobProcess) -> None:
    """Per-process set-up before any job: logging, local models, the FAQ and its audio cache."""
    configure_logging(settings.secrets())
    load_local_models()
    proc.userdata[PROC_VAD] = DEFAULT_TURN_SETTINGS.build_vad()
    proc.userdata[PROC_RESPONSE_CACHE] = ResponseCache.from_settings(settings.cache)
    structlog.get_logger("agent.server").info("prewarmed", region=settings.region, pid=proc.pid)


def agent_attributes(settings: AgentSettings) -> dict[str, str]:
    """The attributes the agent joins with: its region (REGION_ATTRIBUTE tells clients and the
    smoke test which region answered) and, in Container Apps, its revision (REVISION_ATTRIBUTE
    tells the smoke gate whether the new revision's workers answered)."""
    attributes = {REGION_ATTRIBUTE: settings.region}
    if settings.revision is not None:
        attributes[REVISION_ATTRIBUTE] = settings.revision
    return attributes


async def accept_job(settings: AgentSettings, request: JobRequest) -> None:
    """Take every job offered to this region's tagged agent name, with the agent's attributes."""
    await request.accept(attributes=agent_attributes(settings))


async def run_session(
    settings: AgentSettings, remote_models: Callable[[AgentSettings], Models], ctx: JobContext
) -> None:
    """One conversation: build the pipeline for this region and join the room; the job ends
    with the session (the caller hung up), so a draining worker can exit. A failover job whose
    lost agent still answers leaves without a word."""
    await ctx.connect()
    answer_alive(ctx.room)
    failover = failover_note(ctx.job.metadata)
    if failover is not None and await still_answers(ctx.room, failover.lost):
        reason = "the agent it was sent to replace still answers"
        structlog.get_logger("agent.server").warning(
            "failover_declined",
            room=ctx.job.room.name,
            lost_agent=failover.lost,
            reason=reason,
            withdraw_failed=await withdraw(ctx.job.dispatch_id, ctx.job.room.name, settings.worker),
        )
        ctx.shutdown(reason)
        return
    models = remote_models(settings)
    telemetry = TurnTelemetry(
        region=settings.region,
        room=ctx.job.room.name,
        job_id=ctx.job.id,
        location=settings.location,
        placements=models.placements,
    )
    turn = DEFAULT_TURN_SETTINGS
    session, agent = build_session(
        settings=PipelineSettings(
            system_prompt=settings.system_prompt,
            turn=turn,
            tts_voice=f"{settings.tts.voice or ''}/{settings.tts.language or ''}",
        ),
        stt=models.stt,
        llm=models.llm,
        tts=models.tts,
        vad=ctx.proc.userdata[PROC_VAD],
        turn_detector=turn.build_turn_detector(stt_language=settings.stt.language),
        cache=ctx.proc.userdata[PROC_RESPONSE_CACHE],
        history=history(failover.conversation) if failover is not None else None,
    )
    telemetry.attach(session, notes=lambda: agent.turn_note)
    ConversationMirror(ctx.room).attach(session, agent)

    async def _log_session_end(reason: str) -> None:
        telemetry.log_session_end(session, reason)
        await models.aclose()

    ctx.add_shutdown_callback(_log_session_end)
    session.on("close", lambda event: _end_job(ctx, event))
    # record=False: LiveKit Cloud recording would copy audio and transcripts out of the region.
    await session.start(agent=agent, room=ctx.room, room_options=turn.room_options(), record=False)
    if failover is not None:
        # this call's agent in another region was lost: tell the caller, then listen
        session.say(BACK_AFTER_FAILOVER)


def _end_job(ctx: JobContext, event: CloseEvent) -> None:
    ctx.shutdown(f"session closed: {event.reason.value}")


def build_server(
    settings: AgentSettings,
    *,
    remote_models: Callable[[AgentSettings], Models] = build_models,
) -> AgentServer:
    """The worker for this region; SIGTERM drains it within settings.worker.drain_seconds.

    Its job processes share one FAQ audio store (a private directory made here, unless
    settings.cache.audio_dir names one), so a repeat question replays audio across calls.

    `remote_models` builds each job's STT, LLM and TTS (a module-level function, so it pickles
    into the job processes); tests replace it with stand-ins.
    """
    if settings.cache.audio_dir is None:
        # one store for every job process of this worker: a job process serves one call only
        cache = dataclasses.replace(settings.cache, audio_dir=new_store_dir())
        settings = dataclasses.replace(settings, cache=cache)
    worker = settings.worker
    server = AgentServer(
        ws_url=worker.livekit_url,
        api_key=worker.api_key.get_secret_value(),
        api_secret=worker.api_secret.get_secret_value(),
        load_threshold=worker.load_threshold,
        num_idle_processes=worker.idle_processes,
        drain_timeout=worker.drain_seconds,
        port=worker.health_port,
        setup_fnc=functools.partial(prewarm, settings),
        preload_modules=[PRELOAD_MODULE],
    )
    # partials of module-level functions pickle, so job processes receive the parsed settings
    # instead of re-reading the environment
    server.rtc_session(
        functools.partial(run_session, settings, remote_models),
        agent_name=worker.tagged_agent_name,
        on_request=functools.partial(accept_job, settings),
    )
    return server
