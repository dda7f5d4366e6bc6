"""Read the agent's `turn` log events from files or stdin: JSON-lines logs and Log Analytics exports."""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from meridian.contract import (
    MODEL_STAGES,
    TURN_EVENT,
    TURN_GATE_FIELDS,
    TURN_GATE_VERDICTS,
    TURN_SERVED_FIELDS,
    TURN_TIMING_FIELDS,
)

# Console-log columns of the two Container Apps tables: the legacy custom-log table
# ContainerAppConsoleLogs_CL (Log_s) and the newer ContainerAppConsoleLogs (Log).
LOG_COLUMNS: tuple[str, ...] = ("Log_s", "Log", "log_s", "log")
UNKNOWN_REGION = "unknown"


@dataclass(frozen=True)
class TurnEvent:
    """One agent turn: its region, the stage timings in seconds (None when not measured), and how
    the turn gate ended it.

    Logs from before the turn gate have no gate fields: `gate_logged` is then False and the gate
    values are None, so such turns are left out of the gate statistics rather than counted as
    turns the gate did not end (a logged null `gate_verdict`).
    """

    region: str
    eou_delay: float | None
    transcription_delay: float | None
    llm_ttft: float | None
    tts_ttfb: float | None
    e2e_latency: float | None
    cache_hit: bool | None
    gate_logged: bool = False
    # the agent's estimate of the silence the caller heard (None before agents logged it)
    heard_estimate: float | None = None
    gate_verdict: str | None = None
    gate_score: float | None = None
    endpointing_delay: float | None = None
    resumed: bool | None = None
    # The agent's Azure location and where each stage (stt, llm, tts) was served; None when not
    # logged (before the served fields) or not known (e.g. LiveKit Inference).
    location: str | None = None
    stage_locations: tuple[str | None, ...] = (None,) * len(MODEL_STAGES)

    @property
    def out_of_region(self) -> tuple[str, ...]:
        """The stages served from another Azure location than the agent's own."""
        if self.location is None:
            return ()
        return tuple(
            stage
            for stage, where in zip(MODEL_STAGES, self.stage_locations, strict=True)
            if where is not None and where != self.location
        )

    @property
    def placement_known(self) -> bool:
        """Whether the turn says where the agent ran and where at least one stage was served."""
        return self.location is not None and any(self.stage_locations)


@dataclass
class ParseResult:
    """The turns found in some input, and what was skipped on the way."""

    turns: list[TurnEvent] = field(default_factory=list)
    lines_read: int = 0
    other_events: int = 0
    malformed: int = 0
    malformed_reasons: Counter[str] = field(default_factory=Counter)
    malformed_examples: list[str] = field(default_factory=list)

    def skip(self, source: str, reason: str) -> None:
        """Count one unusable record, keeping a few examples for the report."""
        self.malformed += 1
        self.malformed_reasons[reason] += 1
        if len(self.malformed_examples) < 5:
            self.malformed_examples.append(f"{source}: {reason}")

    def merge(self, other: ParseResult) -> None:
        """Add another input's results to this one."""
        self.turns.extend(other.turns)
        self.lines_read += other.lines_read
        self.other_events += other.other_events
        for reason, count in other.malformed_reasons.items():
            self.malformed_reasons[reason] += count
        self.malformed += other.malformed
        room = 5 - len(self.malformed_examples)
        self.malformed_examples.extend(other.malformed_examples[: max(room, 0)])


class ReportError(Exception):
    """An input problem the user must fix; the message names the source."""


def read_inputs(paths: Sequence[str], stdin: TextIO) -> list[tuple[str, str]]:
    """(source name, text) of every input; '-' or no paths means stdin."""
    if not paths:
        paths = ["-"]
    inputs = []
    for path in paths:
        if path == "-":
            inputs.append(("<stdin>", stdin.read()))
            continue
        try:
            inputs.append((path, Path(path).read_text(encoding="utf-8", errors="replace")))
        except OSError as exc:
            raise ReportError(f"cannot read {path}: {exc.strerror or exc}") from None
    return inputs


class _Malformed(ValueError):
    """A record that cannot be used; the message is the reason shown to the user."""


def _timing(event: dict[str, Any], name: str) -> float | None:
    value = event.get(name)
    if value is None:
        return None
    # bool is an int subclass; a true/false timing is a bug upstream, not 1 s or 0 s.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Malformed(f"{name} is not a number")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0:
        raise _Malformed(f"{name} is negative or not finite")
    return seconds


def _gate_verdict(event: dict[str, Any]) -> str | None:
    verdict = event.get("gate_verdict")
    if verdict is not None and verdict not in TURN_GATE_VERDICTS:
        raise _Malformed("gate_verdict is not a known verdict")
    return verdict


def _gate_score(event: dict[str, Any]) -> float | None:
    value = event.get("gate_score")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Malformed("gate_score is not a number")
    score = float(value)
    if not 0.0 <= score <= 1.0:  # also rejects NaN
        raise _Malformed("gate_score is outside 0..1")
    return score


def _text(event: dict[str, Any], name: str) -> str | None:
    value = event.get(name)
    if value is not None and not isinstance(value, str):
        raise _Malformed(f"{name} is not a string")
    return value


def turn_from_event(event: dict[str, Any]) -> TurnEvent:
    """Build a TurnEvent from one decoded `turn` event; raises ValueError naming the bad field."""
    region = event.get("region")
    if region is not None and not isinstance(region, str):
        raise _Malformed("region is not a string")
    cache_hit = event.get("cache_hit")
    if cache_hit is not None and not isinstance(cache_hit, bool):
        raise _Malformed("cache_hit is not true/false")
    resumed = event.get("resumed")
    if resumed is not None and not isinstance(resumed, bool):
        raise _Malformed("resumed is not true/false")
    return TurnEvent(
        region=region or UNKNOWN_REGION,
        eou_delay=_timing(event, "eou_delay"),
        transcription_delay=_timing(event, "transcription_delay"),
        llm_ttft=_timing(event, "llm_ttft"),
        tts_ttfb=_timing(event, "tts_ttfb"),
        e2e_latency=_timing(event, "e2e_latency"),
        heard_estimate=_timing(event, "heard_estimate"),
        cache_hit=cache_hit,
        gate_logged=any(name in event for name in TURN_GATE_FIELDS),
        gate_verdict=_gate_verdict(event),
        gate_score=_gate_score(event),
        endpointing_delay=_timing(event, "endpointing_delay"),
        resumed=resumed,
        location=_text(event, "location"),
        stage_locations=tuple(_text(event, f"{stage}_location") for stage in MODEL_STAGES),
    )


def _decode_line(line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        # Console exports sometimes keep a runtime prefix ("<time> stdout F {...}").
        start = line.find("{")
        if start <= 0:
            raise _Malformed("not JSON") from None
        try:
            return json.loads(line[start:])
        except json.JSONDecodeError:
            raise _Malformed("not JSON") from None


def _take_event(result: ParseResult, source: str, event: Any) -> None:
    if not isinstance(event, dict):
        result.skip(source, "not a JSON object")
        return
    if "event" not in event:
        # A log-stream record (`az containerapp logs show --format json`) wraps the line in "Log".
        wrapped = next((event[c] for c in LOG_COLUMNS if isinstance(event.get(c), str)), None)
        if wrapped is not None:
            try:
                event = _decode_line(wrapped.strip())
            except _Malformed as exc:
                result.skip(source, str(exc))
                return
            if not isinstance(event, dict):
                result.skip(source, "not a JSON object")
                return
    if event.get("event") != TURN_EVENT:
        result.other_events += 1
        return
    try:
        result.turns.append(turn_from_event(event))
    except _Malformed as exc:
        result.skip(source, str(exc))


def _take_line(result: ParseResult, source: str, line: str) -> None:
    result.lines_read += 1
    try:
        event = _decode_line(line)
    except _Malformed as exc:
        result.skip(source, str(exc))
        return
    _take_event(result, source, event)


def _take_row(result: ParseResult, source: str, row: dict[str, Any]) -> None:
    """One Log Analytics row: the console line in Log_s/Log, or the event's fields as columns."""
    for column in LOG_COLUMNS:
        if column in row:
            value = row[column]
            if isinstance(value, dict):
                result.lines_read += 1
                _take_event(result, source, value)
            elif isinstance(value, str) and value.strip():
                _take_line(result, source, value.strip())
            else:
                result.lines_read += 1
                result.skip(source, f"empty {column} column")
            return
    result.lines_read += 1
    _take_event(result, source, _columns_as_event(row))


# Fields a projected export holds as strings; an empty cell is null, or absent for a gate field.
_BOOL_COLUMNS = ("cache_hit", "resumed")
_TEXT_COLUMNS = ("location", *TURN_SERVED_FIELDS)
_JSON_COLUMNS = (*TURN_TIMING_FIELDS, *TURN_GATE_FIELDS, "cache_hit", *_TEXT_COLUMNS)


def _columns_as_event(row: dict[str, Any]) -> dict[str, Any]:
    # A query that projects the fields (CSV) hands over strings: turn them back into JSON values.
    event: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, str) and key in _JSON_COLUMNS:
            text = value.strip()
            if text == "":
                # An old line projected through a query that names the gate columns has empty
                # cells there: absent, not null, so it does not count as a turn the gate skipped.
                if key not in TURN_GATE_FIELDS:
                    event[key] = None
                continue
            if key == "gate_verdict" or key in _TEXT_COLUMNS:
                event[key] = text
                continue
            try:
                event[key] = json.loads(text.lower() if key in _BOOL_COLUMNS else text)
            except json.JSONDecodeError:
                event[key] = value
        else:
            event[key] = value
    return event


def _iter_json_export(document: Any) -> Iterator[dict[str, Any]] | None:
    """Rows of a Log Analytics JSON export, or None when the document is not one."""
    if isinstance(document, list) and all(isinstance(item, dict) for item in document):
        # `az monitor log-analytics query` and the portal export: a list of row objects.
        return iter(document)
    if isinstance(document, dict) and isinstance(document.get("tables"), list):
        # The Log Analytics query REST API: tables of columns and rows.
        def rows() -> Iterator[dict[str, Any]]:
            for table in document["tables"]:
                columns = table.get("columns", []) if isinstance(table, dict) else None
                if not isinstance(columns, list) or not all(
                    isinstance(c, dict) and isinstance(c.get("name"), str) for c in columns
                ):
                    # Not the query API's shape: yield it whole so it is counted as malformed.
                    yield {"table": table}
                    continue
                names = [column["name"] for column in columns]
                for values in table.get("rows", []):
                    yield dict(zip(names, values, strict=False)) if isinstance(values, list) else {}

        return rows()
    return None


def parse_text(text: str, source: str) -> ParseResult:
    """Parse one input's full text: JSON lines, a Log Analytics CSV export, or a JSON export."""
    result = ParseResult()
    stripped = text.lstrip("\ufeff").strip()
    if not stripped:
        return result
    if stripped[0] in "[{":
        try:
            document = json.loads(stripped)
        except json.JSONDecodeError:
            document = None
        rows = _iter_json_export(document) if document is not None else None
        if rows is not None:
            for index, row in enumerate(rows, start=1):
                _take_row(result, f"{source} row {index}", row)
            return result
    first_line = stripped.splitlines()[0]
    if not first_line.lstrip().startswith("{") and _looks_like_csv_header(first_line):
        reader = csv.DictReader(io.StringIO(stripped))
        for index, row in enumerate(reader, start=2):
            _take_row(result, f"{source} line {index}", row)
        return result
    for index, line in enumerate(stripped.splitlines(), start=1):
        if line.strip():
            _take_line(result, f"{source} line {index}", line.strip())
    return result


def _looks_like_csv_header(line: str) -> bool:
    names = {name.strip().strip('"') for name in next(csv.reader([line]))}
    return bool(names & {*LOG_COLUMNS, "event", "e2e_latency"}) or any(
        name.startswith("TimeGenerated") for name in names
    )


def parse_inputs(inputs: Iterable[tuple[str, str]]) -> ParseResult:
    """Parse several (source name, text) inputs into one result."""
    total = ParseResult()
    for source, text in inputs:
        total.merge(parse_text(text, source))
    return total
