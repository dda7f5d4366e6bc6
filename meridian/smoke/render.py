"""The smoke test's output: a step table for one region, a comparison table for several, JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from meridian.smoke.run import RegionResult, StepResult
from meridian.tables import fmt_ms, render_table

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def exit_code(results: Sequence[RegionResult]) -> int:
    """0 when every region passed within budget, else 1."""
    return EXIT_OK if results and all(r.ok for r in results) else EXIT_FAILED


def render_json(results: Sequence[RegionResult]) -> str:
    """Everything a CI job needs, as one JSON object."""
    return json.dumps(
        {
            "ok": exit_code(results) == EXIT_OK,
            "exit_code": exit_code(results),
            "regions": [r.as_json() for r in results],
        },
        indent=2,
    )


def render_error_json(message: str) -> str:
    """A run refused before it started (usage or configuration), as `--json` prints it."""
    return json.dumps(
        {"ok": False, "exit_code": EXIT_USAGE, "error": message, "regions": []}, indent=2
    )


def render_text(results: Sequence[RegionResult]) -> str:
    """One step table for a single region; one comparison table for several."""
    body = _step_table(results[0]) if len(results) == 1 else _comparison_table(results)
    return "\n\n".join([body, *(_verdict(r) for r in results)])


def _step_table(result: RegionResult) -> str:
    target = result.target
    heading = (
        f"Smoke test of {target.region} ({target.location}): agent {target.agent_name},"
        f" room {result.room_name}"
    )
    rows = [
        [step.title, step.status, fmt_ms(step.duration_ms), step.detail or ""]
        for step in result.steps
    ]
    return heading + "\n" + render_table(["Step", "Status", "ms", "Detail"], rows, False)


_SHORT = {
    "dispatch": "Dispatch",
    "livekit_api": "API",
    "room": "Room",
    "join": "Join",
    "agent": "Agent",
}


def _comparison_table(results: Sequence[RegionResult]) -> str:
    headers = ["Region", *(_SHORT.values()), "Reply ms", "Budget ms", "Cleanup", "Result"]
    rows = []
    for result in results:
        steps = {s.name: s for s in result.steps}
        turn = steps["turn"]
        reply = fmt_ms(result.reply_latency_ms) if result.reply_latency_ms is not None else None
        rows.append(
            [
                result.target.region,
                *(_cell(steps[name]) for name in _SHORT),
                reply or _cell(turn),
                str(result.target.latency_budget_ms),
                {"passed": "ok", "failed": "FAIL"}.get(steps["cleanup"].status, "-"),
                "PASS" if result.ok else "FAIL",
            ]
        )
    return "Step times in ms\n" + render_table(headers, rows, False)


def _cell(step: StepResult) -> str:
    if step.status == "passed":
        return fmt_ms(step.duration_ms)
    return {"failed": "FAIL", "skipped": "skip"}.get(step.status, "-")


def _verdict(result: RegionResult) -> str:
    region = result.target.region
    if result.ok:
        return (
            f"PASS {region}: first reply {result.reply_latency_ms:.0f} ms after the question"
            f" (budget {result.target.latency_budget_ms} ms)"
        )
    lines = []
    failed = result.failed_step
    if failed is not None:
        lines.append(f"FAIL {region} at {failed.title!r}: {failed.detail}")
        if failed.hint:
            lines.append(f"  hint: {failed.hint}")
    else:
        lines.append(f"FAIL {region}: interrupted")
    cleanup = next(s for s in result.steps if s.name == "cleanup")
    if cleanup is not failed and cleanup.status == "failed":
        lines.append(f"  clean-up also failed: {cleanup.detail}")
        if cleanup.hint:
            lines.append(f"  hint: {cleanup.hint}")
    return "\n".join(lines)
