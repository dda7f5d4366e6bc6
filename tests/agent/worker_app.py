"""`python -m tests.agent.worker_app start`: the real worker from agent.server, with each job's
voice session replaced by a timed stand-in, so a test can watch a job run through a drain."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from livekit.agents import JobContext, cli

from agent.server import build_server
from agent.settings import load_settings
from meridian.logs import configure_logging


async def timed_conversation(ctx: JobContext) -> None:
    """Stands in for a conversation: lasts TEST_JOB_SECONDS, then ends the job normally."""
    marker = Path(os.environ["TEST_JOB_MARKER"])
    marker.write_text("started")
    # the simulated caller talks for this long; there is nothing to await instead
    await asyncio.sleep(float(os.environ["TEST_JOB_SECONDS"]))
    marker.write_text("finished")
    ctx.shutdown("conversation finished")


if __name__ == "__main__":
    settings = load_settings()
    configure_logging(settings.secrets())
    # a free port: the fixed probe port may be taken on a test machine
    cli.run_app(build_server(settings, conversation=timed_conversation, health_port=0))
