"""Release, preview, status and drift reports as terminal tables, Markdown or JSON."""

from __future__ import annotations

import json
from typing import Any

from meridian.images import image_digest
from meridian.release.orchestrate import PreviewReport, ReleaseReport
from meridian.release.plan import PreviewOutcome, changes_text, short_image
from meridian.release.status import DriftReport, RegionStatus, StatusReport
from meridian.tables import fmt_ms, render_table

RELEASE_HEADERS = (
    "region",
    "wave",
    "old image",
    "new image",
    "infra",
    "up",
    "smoke",
    "first reply ms",
    "time s",
    "rollback",
)


def to_json(report: Any) -> str:
    return json.dumps(report.as_json(), indent=2)


def render_release(report: ReleaseReport, markdown: bool = False) -> str:
    rows = [
        (
            r.region,
            r.wave,
            short_image(r.old_image),
            short_image(r.new_image),
            r.infra if r.infra != "updated" else f"updated ({r.infra_changes})",
            r.up if r.up != "updated" else f"updated ({r.up_changes})",
            r.smoke,
            fmt_ms(r.reply_latency_ms),
            "-" if r.seconds is None else f"{r.seconds:.0f}",
            _short_note(r.rollback, r.rollback_image),
        )
        for r in report.regions
    ]
    lines = [
        f"Release of {report.image}",
        f"global stack {report.global_stack}: {report.global_up}",
        "",
        render_table(RELEASE_HEADERS, rows, markdown),
        "",
    ]
    for row in report.regions:
        if row.detail and row.detail != "already done":
            lines.append(f"{row.region}: {row.detail}")
    if report.ok:
        lines.append(f"OK: every region is on the new image ({report.seconds:.0f} s)")
    else:
        lines.append(f"FAILED at {report.failed_step}")
        lines += [f"  {r}" for r in report.rollbacks]
    return "\n".join(lines)


def _short_note(note: str | None, image: str | None) -> str:
    if not note:
        return "-"
    return note.replace(image, short_image(image)) if image else note


def render_preview(report: PreviewReport, markdown: bool = False) -> str:
    title = f"Preview with {report.image}" if report.image else "Preview (each stack's own image)"
    rows = [
        (p.stack, short_image(p.image), _changes(p), ", ".join(_resource(r) for r in p.resources))
        for p in report.stacks
    ]
    table = render_table(("stack", "image", "changes", "resources"), rows, markdown)
    heading = f"### {title}" if markdown else title
    return "\n".join([heading, "", table, "", "Nothing was changed."])


def render_drift(report: DriftReport, markdown: bool = False) -> str:
    rows = [(p.stack, short_image(p.image), _changes(p)) for p in report.stacks]
    lines = [render_table(("stack", "image", "drift"), rows, markdown), ""]
    for p in report.drifted:
        lines.append(f"{p.stack}: {p.error}" if not p.ok else f"{p.stack} drifted:")
        lines += [f"  {_resource(r)}" for r in p.resources]
    lines.append("OK: no drift" if report.ok else f"DRIFT in {len(report.drifted)} stack(s)")
    return "\n".join(lines)


def render_status(report: StatusReport, markdown: bool = False) -> str:
    rows = [_status_row(r) for r in report.regions]
    headers = (
        "region",
        "image digest",
        "revision",
        "replicas",
        "dispatch",
        "via global",
        "worker",
        "peers",
        "drift",
    )
    if report.global_probe is None:
        entry = "not probed (no globalUrl)"
    elif report.global_probe.ok:
        entry = f"{(report.global_probe.body or {}).get('status', '?')} (served by {(report.global_probe.body or {}).get('region', '?')})"
    else:
        entry = report.global_probe.why()
    drift = "not checked" if report.global_drift is None else _changes(report.global_drift)
    lines = [
        f"global stack {report.global_stack}: entry {report.global_url or '-'} /healthz: {entry};"
        f" drift: {drift}",
        "",
        render_table(headers, rows, markdown),
        "",
        "replicas: configured min-max; running replicas are not a stack output"
        " (az containerapp replica list -g <resourceGroup> -n <appName>)",
    ]
    for problem in report.problems:
        lines.append(f"global: {problem}")
    for r in report.regions:
        lines += [f"{r.region}: {p}" for p in r.problems]
    lines.append("OK: every region healthy" if report.ok else "NOT OK")
    return "\n".join(lines)


def _status_row(r: RegionStatus) -> tuple[str, ...]:
    digest = image_digest(r.image) if r.image else None
    if not r.deployed:
        return (r.region, "not deployed", "-", "-", "-", "-", "-", "-", _drift(r))
    if r.own is None:
        dispatch = "no URL"
    elif not r.own.ok:
        dispatch = r.own.why()
    else:
        dispatch = str((r.own.body or {}).get("status", "?"))
    if r.via_global is None:
        via = "-"
    elif not r.via_global.ok:
        via = r.via_global.why()
    else:
        via = str((r.via_global.body or {}).get("status", "?"))
    worker = r.worker
    if worker is None:
        workers = "-"
    else:
        state = str(worker.get("state", "?"))
        workers = f"{worker['agent_name']} {state}" if worker.get("agent_name") else state
        if (load := r.load) is not None:
            workers += f", {load.active_jobs} jobs, load {load.worker_load:.2f}"
    peers = ", ".join(f"{k}: {v}" for k, v in r.peers.items()) or "-"
    return (
        r.region,
        (digest[:19] if digest else short_image(r.image)),
        r.revision or "-",
        f"{r.replicas_configured[0]}-{r.replicas_configured[1]}",
        dispatch,
        via,
        workers,
        peers,
        _drift(r),
    )


def _drift(r: RegionStatus) -> str:
    return "not checked" if r.drift is None else _changes(r.drift)


def _changes(p: PreviewOutcome) -> str:
    if not p.ok:
        return f"error: {p.error}"
    return changes_text(p.changes) or "no changes"


def _resource(r: Any) -> str:
    diffs = f" ({', '.join(r.diffs)})" if r.diffs else ""
    return f"{r.op} {r.type} {r.name}{diffs}"
