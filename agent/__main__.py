"""Command line: `python -m agent {start,dev,console,connect,download-files}`."""

from __future__ import annotations

import sys

from meridian.contract import AGENT_HEALTH_PORT

USAGE = (
    "usage: python -m agent COMMAND\n"
    f"  start           run the worker (production: JSON logs, health server on :{AGENT_HEALTH_PORT})\n"
    "  dev             run the worker in development mode\n"
    "  console         talk to the agent from this terminal\n"
    "  connect         join one room directly (--room NAME)\n"
    "  download-files  load every model the image needs, so a cold start downloads nothing\n"
    "Configuration comes from the environment; see docs/agent.md."
)
_WORKER_COMMANDS = ("start", "dev", "console", "connect")


def main(argv: list[str]) -> int:
    """Validate the environment once, then hand over to the livekit-agents CLI."""
    command = argv[0] if argv else None
    if command == "download-files":
        from agent.build_assets import prepare_image_assets

        return prepare_image_assets()
    if command not in _WORKER_COMMANDS:
        print(USAGE, file=sys.stderr if command else sys.stdout)
        return 0 if command in (None, "-h", "--help", "help") else 2

    from agent.faq import Faq, FaqFileError
    from agent.settings import SettingsError, load_settings

    try:
        settings = load_settings()
        Faq.load(settings.cache.faq_path, settings.cache.threshold)
    except (SettingsError, FaqFileError) as exc:
        print(f"agent: configuration error: {exc}", file=sys.stderr)
        return 2

    from livekit.agents import cli

    from agent.server import build_server
    from meridian.logs import configure_logging

    configure_logging(settings.secrets())
    cli.run_app(build_server(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
