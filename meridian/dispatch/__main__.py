"""Run the dispatch service: ``python -m meridian.dispatch`` (configuration comes from the environment)."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog
from aiohttp import web

from meridian.contract import Env
from meridian.dispatch.aiohttp_logs import route_aiohttp_logs
from meridian.dispatch.app import create_app
from meridian.dispatch.settings import HOST, DispatchSettings, SettingsError, load_settings
from meridian.logs import configure_logging


def configure_dispatch_logging(settings: DispatchSettings, stream: TextIO | None = None) -> None:
    """JSON lines on stdout with the service's credentials redacted (meridian.logs); per-request
    events (token_issued) are debug and stay out of production logs."""
    configure_logging(settings.secrets(), stream)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    route_aiohttp_logs()


def main() -> int:
    """Parse the environment, then serve until stopped; bad configuration exits with code 2."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"dispatch: {exc}", file=sys.stderr)
        return 2
    configure_dispatch_logging(settings)
    structlog.get_logger("dispatch").info(
        "dispatch_starting",
        region=settings.region,
        regions=[e.region for e in settings.regions],
        port=settings.port,
    )
    try:
        web.run_app(
            create_app(settings), host=HOST, port=settings.port, access_log=None, print=None
        )
    except OSError as exc:
        # e.g. the port is taken or needs privileges: one line, like any other bad setting
        print(
            f"dispatch: cannot listen on {HOST}:{settings.port}"
            f" ({Env.dispatch('port')}): {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
