"""A stand-in for the `pulumi` process: the Automation API runs unchanged on top of it.

`FakePulumiCLI` replaces only `PulumiCommand.run` (and the `pulumi version` call its constructor
makes): every argument list the real LocalWorkspace and Stack build is recorded and answered the
way the CLI answers it, including the engine event log that `up` and `preview` read."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi.automation import CommandResult, PulumiCommand
from pulumi.automation.errors import create_command_error
from semver import VersionInfo

# Below 3.205 the Automation API reads engine events from a file, which a fake can write.
FAKE_VERSION = "3.200.0"


@dataclass
class CLIStack:
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)
    tags: dict[str, str] = field(default_factory=dict)
    config: dict[str, str] = field(default_factory=dict)
    # What `preview` and `up` report: (op, type, name, diffs).
    steps: list[tuple[str, str, str, list[str]]] = field(default_factory=list)
    up_error: str | None = None


class FakePulumiCLI(PulumiCommand):
    def __init__(self, stacks: Mapping[str, CLIStack]) -> None:  # no `pulumi version` here
        self.command = "pulumi"
        self.version = VersionInfo.parse(FAKE_VERSION)
        self.stacks = dict(stacks)
        self.calls: list[list[str]] = []
        self.cwds: set[str] = set()
        self.envs: list[dict[str, str]] = []

    def run(
        self,
        args: list[str],
        cwd: str,
        additional_env: Mapping[str, str],
        on_output: Any = None,
        on_error: Any = None,
    ) -> CommandResult:
        args = [a for a in args if a != "--non-interactive"]
        self.calls.append(args)
        self.cwds.add(cwd)
        self.envs.append(dict(additional_env))
        name = args[args.index("--stack") + 1] if "--stack" in args else None
        stack = self.stacks.get(name or "")
        if name is not None and stack is None:
            return self._fail(f"error: no stack named '{name}' found")
        assert stack is not None
        verb = args[:2]
        if verb == ["stack", "select"]:
            return _ok()
        if verb == ["stack", "output"]:
            shown = "--show-secrets" in args
            values = {
                k: v if shown or k not in stack.secret_outputs else "[secret]"
                for k, v in stack.outputs.items()
            }
            return _ok(json.dumps(values))
        if args[:3] == ["stack", "tag", "ls"]:
            return _ok(json.dumps(stack.tags))
        if args[:3] == ["stack", "tag", "set"]:
            stack.tags[args[3]] = args[4]
            return _ok()
        if args[:3] == ["stack", "tag", "rm"]:
            stack.tags.pop(args[3], None)
            return _ok()
        if verb == ["config", "set"]:
            stack.config[args[2]] = args[args.index("--") + 1]
            return _ok()
        if verb == ["stack", "history"]:
            return _ok(json.dumps([_history(stack)]))
        if args[0] in ("up", "preview"):
            self._events(args, stack)
            if args[0] == "up":
                if stack.up_error:
                    return self._fail(stack.up_error)
                if "meridian:image" in stack.config:
                    stack.outputs["image"] = stack.config["meridian:image"]
            return _ok("done")
        raise AssertionError(f"unexpected pulumi command: {args}")

    def _events(self, args: list[str], stack: CLIStack) -> None:
        path = args[args.index("--event-log") + 1]
        counts: dict[str, int] = {"same": 5}
        lines = [{"sequence": 0, "timestamp": 0, "preludeEvent": {"config": {}}}]
        for i, (op, type_, name, diffs) in enumerate(stack.steps, start=1):
            counts[op] = counts.get(op, 0) + 1
            urn = f"urn:pulumi:stack::meridian::{type_}::{name}"
            meta = {"op": op, "urn": urn, "type": type_, "provider": "", "diffs": diffs}
            lines.append({"sequence": i, "timestamp": i, "resourcePreEvent": {"metadata": meta}})
        same = {"op": "same", "urn": "urn:pulumi:stack::meridian::pulumi:pulumi:Stack::x"}
        lines.append({"sequence": 90, "timestamp": 90, "resourcePreEvent": {"metadata": same}})
        summary = {"maybeCorrupt": False, "durationSeconds": 1, "resourceChanges": counts}
        lines.append({"sequence": 99, "timestamp": 99, "summaryEvent": summary})
        # the CLI ends every event log with a cancel event; the Automation API's reader stops
        # there, and waits 5 s for it otherwise
        lines.append({"sequence": 100, "timestamp": 100, "cancelEvent": {}})
        with open(path, "a", encoding="utf-8") as log:
            log.writelines(json.dumps(line) + "\n" for line in lines)
        stack.last_counts = counts  # type: ignore[attr-defined]

    def _fail(self, stderr: str) -> CommandResult:
        raise create_command_error(CommandResult("", stderr, 255))

    def by_verb(self, *verb: str) -> list[list[str]]:
        return [c for c in self.calls if c[: len(verb)] == list(verb)]


def _ok(stdout: str = "") -> CommandResult:
    return CommandResult(stdout, "", 0)


def _history(stack: CLIStack) -> dict[str, Any]:
    return {
        "kind": "update",
        "startTime": "2026-12-01T03:00:00.000000Z",
        "endTime": "2026-12-01T03:01:00.000000Z",
        "message": "",
        "environment": {},
        "config": {},
        "result": "succeeded",
        "resourceChanges": getattr(stack, "last_counts", {"same": 5}),
    }
