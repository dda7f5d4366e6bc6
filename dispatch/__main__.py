"""Run the dispatch service: ``python -m dispatch`` (configuration comes from the environment)."""

from __future__ import annotations

import logging
import os
import sys

import structlog
from aiohttp import web

from dispatch.app import create_app
from dispatch.settings import SettingsError, load_settings


def main() -> int:
    """Parse the environment, then serve until stopped; bad configuration exits with code 2."""
    try:
        settings = load_settings(os.environ)
    except SettingsError as exc:
        print(f"dispatch: {exc}", file=sys.stderr)
        return 2
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    )
    structlog.get_logger("dispatch").info(
        "dispatch_starting",
        region=settings.region,
        regions=[e.region for e in settings.regions],
        port=settings.port,
    )
    web.run_app(
        create_app(settings), host=settings.host, port=settings.port, access_log=None, print=None
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
