"""`python -m tests.agent.worker_app start`: the real worker from agent.server, with each job's
voice session replaced by a stand-in the test controls, so it can watch a job run through a drain."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from livekit.agents import JobContext, cli

from agent.server import build_server
from agent.settings import load_settings
from meridian.logs import configure_logging


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


if __name__ == "__main__":
    settings = load_settings()
    configure_logging(settings.secrets())
    # a free port: the fixed probe port may be taken on a test machine
    cli.run_app(build_server(settings, conversation=held_conversation, health_port=0))
