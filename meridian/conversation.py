"""The conversation a failover carries: the last turns of a call, as the agent publishes them in
its CONVERSATION_ATTRIBUTE, dispatch copies them into the failover dispatch, and the agent that
takes over reads them back. Anything malformed reads as no conversation: it came over the wire.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Literal, get_args

from meridian.contract import CARRIED_CHARS, CARRIED_MESSAGES

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class CarriedMessage:
    """One turn of the conversation: who said it, and its first CARRIED_CHARS characters."""

    role: Role
    text: str


def encode(messages: Iterable[CarriedMessage]) -> str:
    """The last CARRIED_MESSAGES messages, each cut to CARRIED_CHARS, as compact JSON."""
    kept = [CarriedMessage(m.role, m.text[:CARRIED_CHARS]) for m in messages][-CARRIED_MESSAGES:]
    return json.dumps([asdict(m) for m in kept], separators=(",", ":"), ensure_ascii=False)


def decode(raw: object) -> tuple[CarriedMessage, ...]:
    """The messages in `raw` (JSON text, or the list it holds), bounded as encode bounds them."""
    if isinstance(raw, str):
        if len(raw) > CARRIED_MESSAGES * (CARRIED_CHARS + 64) * 2:
            return ()
        try:
            raw = json.loads(raw) if raw else []
        except ValueError:
            return ()
    if not isinstance(raw, list):
        return ()
    found = []
    for item in raw[-CARRIED_MESSAGES:]:
        if not isinstance(item, dict):
            return ()
        role, text = item.get("role"), item.get("text")
        if role not in get_args(Role) or not isinstance(text, str):
            return ()
        found.append(CarriedMessage(role, text[:CARRIED_CHARS]))
    return tuple(found)
