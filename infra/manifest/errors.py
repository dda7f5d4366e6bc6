"""ManifestError, and the collector that turns every problem into `file:line: path (got value): rule`."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ValidationError
from rapidfuzz import fuzz, process

from infra.manifest.source import LineIndex

SECRET_LIKE_KEY = r"(secret|password|api_?key|token|credential)"
# The pydantic error type of a value that looks like a credential: its message never quotes it.
SECRET_VALUE = "secret_value"
MISSING = object()


class ManifestError(Exception):
    """Every problem found in a manifest, each naming the file, the path, the value and what is allowed."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors))


def did_you_mean(value: str, choices: list[str] | tuple[str, ...], limit: int = 1) -> list[str]:
    """The closest `choices` to a misspelt `value`, best first (the one fuzzy matcher we use)."""
    found = process.extract(value, choices, scorer=fuzz.ratio, limit=limit, score_cutoff=60)
    return [choice for choice, _, _ in found]


class Errors:
    """Collects messages of the form `file:line: path (got value): problem`, once each."""

    def __init__(self, name: str, lines: LineIndex) -> None:
        self.name = name
        self.lines = lines
        self.messages: list[str] = []

    def add(self, path: tuple[str, ...], value: Any, problem: str) -> None:
        line = self.lines.line_of(path)
        where = f"{self.name}:{line}" if line else self.name
        dotted = ".".join(path) or "(top level)"
        shown = "" if value is MISSING else f" (got {show(value)})"
        message = f"{where}: {dotted}{shown}: {problem}"
        if message not in self.messages:
            self.messages.append(message)

    def note(self, text: str) -> None:
        """A message about the file as a whole: `file: text`."""
        message = f"{self.name}: {text}"
        if message not in self.messages:
            self.messages.append(message)

    def raise_if_any(self) -> None:
        if self.messages:
            raise ManifestError(self.messages)

    def add_pydantic(
        self,
        exc: ValidationError,
        model: type[BaseModel],
        owner_of: Any = None,
        prefix: tuple[str, ...] = (),
    ) -> None:
        """Add each pydantic error under `prefix`, or under `owner_of(loc)` when given."""
        for err in exc.errors():
            loc = tuple(str(p) for p in err["loc"])
            where = owner_of(loc) if owner_of else prefix
            self._add_one(err, (*where, *loc), model, loc)

    def _add_one(
        self, err: Any, path: tuple[str, ...], model: type[BaseModel], loc: tuple[str, ...]
    ) -> None:
        kind = err["type"]
        if kind == "extra_forbidden":
            field = path[-1]
            allowed = _fields_at(model, loc[:-1])
            if re.search(SECRET_LIKE_KEY, field, re.IGNORECASE):
                problem = (
                    "secrets never go in regions.yaml; set them in the global Key Vault with"
                    " `az keyvault secret set` (README, 'Secrets')"
                )
            else:
                close = did_you_mean(field, allowed)
                hint = f"did you mean {close[0]!r}? " if close else ""
                problem = f"unknown key; {hint}allowed: {', '.join(allowed)}"
            self.add(path, MISSING, problem)
        elif kind == "missing":
            self.add(path, MISSING, "required field is missing")
        elif kind == SECRET_VALUE:
            self.add(path, MISSING, err["msg"])
        else:
            message = err["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
            self.add(path, err.get("input", MISSING), message)


def show(value: Any) -> str:
    """A value as an error message quotes it: short, one line."""
    if isinstance(value, dict | list):
        text = json.dumps(value, default=str)
        return text if len(text) <= 60 else text[:57] + "..."
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _fields_at(model: type[BaseModel], loc: tuple[str, ...]) -> list[str]:
    """Field names of the model found by walking `loc` from `model` (for 'did you mean')."""
    current: Any = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        fields = {f.alias or name: f for name, f in current.model_fields.items()}
        field = fields.get(part)
        if field is None:
            return []
        current = _model_in(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
