"""Strict, bounded JSON decoding for untrusted bytes: request bodies and probe answers.

`json.loads` alone turns some inputs into exceptions a caller does not expect (RecursionError for
deep nesting, ValueError for integers past Python's 4,300-digit limit) and accepts values a service
must not pass on (NaN and Infinity, lone surrogates that cannot be encoded again). `loads` rejects all
of them with one `JsonError` naming where the problem is.
"""

from __future__ import annotations

import json
import re

# Deeper than any document dispatch reads (a token request nests 4 levels, /healthz 2).
MAX_DEPTH = 20
# Longer integers are not coordinates, counts or loads: they are read as floats (10**400 becomes
# inf), so the field's own check refuses them by name, and int() never meets Python's 4,300-digit
# limit (a ValueError json.loads does not expect).
MAX_INT_DIGITS = 32

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonError(ValueError):
    """Why the document was refused; `field` is where (``body`` for the document as a whole)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _too_deep(text: str, limit: int) -> bool:
    if text.count("[") + text.count("{") <= limit:
        return False  # the common case: too few brackets to nest that deep, strings or not
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _reject_constant(name: str) -> object:
    raise JsonError("body", f"contains {name}, which is not a JSON number")


def _bounded_int(text: str) -> int | float:
    return int(text) if len(text) <= MAX_INT_DIGITS else float(text)


def _join(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return str(key) if path == "body" else f"{path}.{key}"


def _find_surrogate(value: object, path: str) -> str | None:
    """The path of the first string (or key) holding a lone surrogate, if any."""
    if isinstance(value, str):
        return path if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if _SURROGATE.search(key):
                return path
            found = _find_surrogate(item, _join(path, key))
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _find_surrogate(item, _join(path, index))
            if found:
                return found
    return None


def loads(data: bytes, *, max_depth: int = MAX_DEPTH) -> object:
    """Decode UTF-8 JSON, refusing deep nesting, NaN/Infinity, huge integers and lone surrogates."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonError("body", "is not valid JSON: not UTF-8") from None
    if _too_deep(text, max_depth):
        raise JsonError("body", f"is not valid JSON here: nested more than {max_depth} levels")
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_int=_bounded_int)
    except JsonError:
        raise
    except json.JSONDecodeError as exc:
        raise JsonError("body", f"is not valid JSON: {exc.msg} at position {exc.pos}") from None
    except (ValueError, RecursionError):
        raise JsonError("body", "is not valid JSON") from None
    if _SURROGATE_ESCAPE.search(text):
        where = _find_surrogate(value, "body")
        if where is not None:
            raise JsonError(where, "contains a lone surrogate (\\ud800-\\udfff), which is not text")
    return value
