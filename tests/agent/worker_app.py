"""`python -m tests.agent.worker_app start`: the real worker from agent.server, with each job's
voice session replaced by a stand-in the test controls (TEST_CONVERSATION picks which)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from pathlib import Path

from livekit.agents import JobContext, cli

from agent.pipeline import PipelineSettings, build_session
from agent.server import PROC_RESPONSE_CACHE, PROC_VAD, build_server
from agent.settings import load_settings
from agent.turn_handling import DEFAULT_TURN_SETTINGS
from benchmarks.stand_ins import FakeLLM, FakeSTT, FakeTTS, InstantSpeaker
from meridian.logs import configure_logging

FAQ_QUESTION = "What are your opening hours?"


async def held_conversation(ctx: JobContext) -> None:
    """Stands in for a conversation: runs until the test creates TEST_JOB_RELEASE (the caller
    hangs up), then ends the job normally. TEST_JOB_MARKER says where the job is."""
    marker = Path(os.environ["TEST_JOB_MARKER"])
    release = Path(os.environ["TEST_JOB_RELEASE"])
    marker.write_text("started")
    # the test is in another process; the release file is the only thing to watch
    while not release.exists():
        await asyncio.sleep(0.05)
    marker.write_text("finished")
    ctx.shutdown("conversation finished")


async def faq_conversation(ctx: JobContext) -> None:
    """A call that asks one FAQ question: the real pipeline with the VAD and response cache that
    prewarm left in this job process, stand-ins for the remote models and the room's speaker.
    What the call did goes to TEST_REPORT_DIR/<job id>.json."""
    stt, llm, tts = FakeSTT([]), FakeLLM("not an FAQ answer"), FakeTTS(ttfb=0.01)
    turn = DEFAULT_TURN_SETTINGS
    session, agent = build_session(
        settings=PipelineSettings(close_transcript_timeout=0.05),
        stt=stt,
        llm=llm,
        tts=tts,
        vad=ctx.proc.userdata[PROC_VAD],
        turn_detector=turn.build_turn_detector(),
        cache=ctx.proc.userdata[PROC_RESPONSE_CACHE],
    )
    speaker = InstantSpeaker()
    session.output.audio = speaker
    await session.start(agent=agent, record=False)
    await session.generate_reply(user_input=FAQ_QUESTION)
    await session.aclose()
    audio = b"".join(bytes(f.data) for p in speaker.playouts for f in p.frames)
    report = {
        "pid": os.getpid(),
        "tts_calls": len(tts.calls),
        "llm_calls": len(llm.calls),
        "audio_sha256": hashlib.sha256(audio).hexdigest(),
        "audio_bytes": len(audio),
    }
    target = Path(os.environ["TEST_REPORT_DIR"]) / f"{ctx.job.id}.json"
    written = target.with_suffix(".tmp")
    written.write_text(json.dumps(report))
    written.replace(target)  # the test sees the whole report or none
    ctx.shutdown("call finished")


CONVERSATIONS = {"held": held_conversation, "faq": faq_conversation}


if __name__ == "__main__":
    settings = load_settings()
    configure_logging(settings.secrets())
    conversation = CONVERSATIONS[os.environ.get("TEST_CONVERSATION", "held")]
    # a free port: the fixed probe port may be taken on a test machine
    cli.run_app(build_server(settings, conversation=conversation, health_port=0))
