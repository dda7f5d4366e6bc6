"""Spot credentials where a manifest value should be plain text: regions.yaml is committed and its
values reach resource tags, container environments, synth output and dispatch's answers."""

from __future__ import annotations

import math
import re
from collections import Counter
from urllib.parse import urlsplit

# Key formats that announce themselves: OpenAI, Stripe-style, GitHub, Slack, AWS, Google, and
# LiveKit API keys ("API" + 12 letters and digits).
_KNOWN_PREFIXES = re.compile(
    r"\b(sk-[A-Za-z0-9_-]{16,}|sk_(live|test)_[A-Za-z0-9]{16,}|gh[pousr]_[A-Za-z0-9]{30,}"
    r"|github_pat_[A-Za-z0-9_]{30,}|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}"
    r"|AIza[0-9A-Za-z_-]{35}|API(?=[A-Za-z0-9]{0,11}\d)[A-Za-z0-9]{12}\b)"
)
_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{32,}")
_HEX_OR_UUID = re.compile(r"[0-9a-fA-F-]+")
# Random base62/base64 runs score above 4.5 bits per character; words and hex stay below.
_ENTROPY_BITS = 4.2


def secret_in(value: str) -> str | None:
    """Why `value` looks like it holds a credential, or None."""
    if _KNOWN_PREFIXES.search(value):
        return "contains what looks like an API key"
    for token in _TOKEN.findall(value):
        if _HEX_OR_UUID.fullmatch(token):
            continue  # digests, UUIDs and other hex IDs are not secrets
        classes = sum(bool(re.search(p, token)) for p in ("[a-z]", "[A-Z]", "[0-9]"))
        if classes == 3 and _entropy(token) >= _ENTROPY_BITS:
            return "contains a long random-looking string, like a secret"
    return None


def credentials_in_url(url: str) -> bool:
    """Whether a URL carries a user name or password (scheme://user:pass@host)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return "@" in parts.netloc


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())
