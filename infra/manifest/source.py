"""Read regions.yaml safely: bounded size and depth, no aliases, text keys only, no duplicates,
and the line of every path, for error messages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# regions.yaml for dozens of regions is a few KB; anything near this is a mistake or an attack.
MAX_MANIFEST_BYTES = 256 * 1024
# The deepest real path is defaults.models.stt.provider; this leaves room and stops nesting bombs.
MAX_DEPTH = 16


class SourceError(Exception):
    """The file cannot be read as a manifest at all; the message is complete."""


@dataclass(frozen=True)
class LineIndex:
    """The 1-based line where each path (tuple of keys) starts."""

    lines: dict[tuple[str, ...], int]

    def line_of(self, path: tuple[str, ...]) -> int | None:
        """The line of `path`, or of its nearest ancestor the file has."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None


def read_manifest_text(path: Path, name: str) -> str:
    """The file's text, refusing what is too large or not UTF-8."""
    try:
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise SourceError(
                f"{name}: the manifest is {size:,} bytes; the limit is {MAX_MANIFEST_BYTES:,}"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{name}: cannot read the manifest: {exc.strerror}") from None
    return decode(data, name)


def decode(data: bytes, name: str) -> str:
    """UTF-8 text, or an error naming the line of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError(
            f"{name}:{line}: the manifest must be UTF-8 text (byte 0x{data[exc.start]:02x}"
            f" at offset {exc.start} is not)"
        ) from None


def load_yaml(text: str, name: str) -> tuple[Any, LineIndex]:
    """Parse manifest text into plain data and the line index, or raise SourceError."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_MANIFEST_BYTES:
        raise SourceError(f"{name}: the manifest is larger than {MAX_MANIFEST_BYTES:,} bytes")
    try:
        _check_events(text, name)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        lines: dict[tuple[str, ...], int] = {}
        if node is not None:
            _index(node, (), lines, name)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}" if mark else name
        raise SourceError(f"{where}: invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise SourceError(f"{name}: invalid YAML: {exc}") from None
    return data, LineIndex(lines)


def _check_events(text: str, name: str) -> None:
    # Aliases are refused before anything is built: a few KB of nested aliases expand to
    # billions of nodes. Depth is checked on the flat event stream for the same reason.
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise SourceError(
                f"{name}:{line}: YAML aliases (*{event.anchor}) and merge keys are not supported;"
                " put shared settings under defaults: instead"
            )
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise SourceError(
                    f"{name}:{line}: nesting deeper than {MAX_DEPTH} levels; a manifest never"
                    " needs that"
                )
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1


def _index(
    node: yaml.Node, path: tuple[str, ...], lines: dict[tuple[str, ...], int], name: str
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            key_problem = _key_problem(key_node)
            if key_problem:
                where = ".".join(path) or "(top level)"
                raise SourceError(f"{name}:{line}: {where}: {key_problem}")
            key = key_node.value
            if key in seen:
                where = ".".join((*path, key))
                raise SourceError(f"{name}:{line}: {where}: duplicate key {key!r}")
            seen.add(key)
            child = (*path, key)
            lines[child] = line
            _index(value_node, child, lines, name)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, str(i)), lines, name)


def _key_problem(node: yaml.Node) -> str | None:
    if not isinstance(node, yaml.ScalarNode):
        return "a key must be text, not a list or mapping"
    if node.tag == "tag:yaml.org,2002:merge":
        return "YAML merge keys (<<) are not supported; put shared settings under defaults: instead"
    if node.tag != "tag:yaml.org,2002:str":
        # YAML 1.1 reads yes, no, on, off, 1.0 and null as non-text.
        return f"key {node.value!r} must be text; quote it ('{node.value}':)"
    return None
