"""What the tests against the real LiveKit server add to benchmarks.live_call: the servers whose
logs a failing test shows."""

from __future__ import annotations

from meridian.local.server import LocalServer

# The LiveKit servers of the current test module, whose logs a failing test reports (conftest).
SERVERS: list[LocalServer] = []
