"""The one structlog setup: JSON lines on stdout, with every known credential value redacted."""

from __future__ import annotations

import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

REDACTED = "[redacted]"
# Shorter values would redact ordinary words; real credentials are far longer.
_MIN_SECRET_LEN = 8


class SecretRedactor:
    """structlog processor that replaces every known credential value wherever it appears."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= _MIN_SECRET_LEN}, key=len)[::-1]

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._secrets:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return {k: self._scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._scrub(v) for v in value]
        if isinstance(value, int | float | bool) or value is None:
            return value
        return self._scrub(str(value))

    def __call__(
        self, logger: Any, method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        if not self._secrets:
            return event_dict
        return {k: self._scrub(v) for k, v in event_dict.items()}


def configure_logging(secrets: Iterable[str] = (), stream: TextIO | None = None) -> None:
    """Send structlog events as JSON lines to stdout (Container Apps ships them to Log Analytics),
    redacting every value in `secrets` wherever it appears, tracebacks included."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            SecretRedactor(secrets),
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stdout),
        cache_logger_on_first_use=False,
    )
