"""`make synth`: show what each stack would create, by running the real Pulumi program offline under
mocks (infra/offline.py), as text or JSON."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from infra.azure_roles import COGNITIVE_SERVICES_OPENAI_USER, COGNITIVE_SERVICES_SPEECH_USER
from infra.global_refs import GlobalOutput
from infra.manifest import (
    DEFAULT_MANIFEST,
    GLOBAL_KEY,
    Manifest,
    ManifestError,
    is_global_stack,
    load_manifest,
)
from infra.offline import StackPlan, plan_stacks
from meridian.images import UNBUILT_IMAGE

ACCOUNT = "azure-native:cognitiveservices:Account"
DEPLOYMENT = "azure-native:cognitiveservices:Deployment"


def main(argv: list[str] | None = None) -> int:
    """Synthesize the chosen stacks (default: the global stack and one per region) and print them."""
    parser = argparse.ArgumentParser(
        prog="synth",
        description="Show every resource each stack of the manifest would create (offline).",
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        default=DEFAULT_MANIFEST,
        help="regions manifest (default: regions.yaml)",
    )
    parser.add_argument(
        "--stack",
        action="append",
        dest="stacks",
        metavar="NAME",
        help="stack to synthesize; repeatable (default: global and every region)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object instead of a listing"
    )
    parser.add_argument(
        "--diff",
        type=Path,
        metavar="OLD",
        help="show only what changes from manifest OLD to --manifest, per stack, e.g."
        " --diff <(git show HEAD:regions.yaml)",
    )
    parser.add_argument(
        "--deploy-date",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="check models' retirements as of this day (default: today, as `pulumi up` does)",
    )
    args = parser.parse_args(argv)

    try:
        manifest = load_manifest(args.manifest, on=args.deploy_date)
        stacks = args.stacks or [GLOBAL_KEY, *manifest.regions]
        regions = {
            stack: GLOBAL_KEY if is_global_stack(stack) else manifest.region_for_stack(stack).key
            for stack in stacks
        }
    except ManifestError as exc:
        print(exc, file=sys.stderr)
        return 2

    for warning in manifest.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    config = {"deployDate": args.deploy_date.isoformat()} if args.deploy_date else None
    if args.diff is not None:
        return _diff_main(args.diff, manifest, args.stacks, args.json, args.deploy_date, config)
    plans = plan_stacks(manifest, stacks, config)
    if any(plan.outputs.get("image") == UNBUILT_IMAGE for plan in plans.values()):
        print(
            f"note: no agent image is built yet, so region stacks show {UNBUILT_IMAGE};"
            " `pulumi up` of a region refuses to deploy until a release (or `pulumi config set"
            " meridian:image`) gives it one",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(_as_json(plans, regions), indent=2))
    else:
        print(_as_text(manifest, plans, regions))
    return 0


def _diff_main(
    old_path: Path,
    manifest: Manifest,
    chosen: list[str] | None,
    as_json: bool,
    deploy_date: date | None,
    config: dict[str, str] | None,
) -> int:
    """Plan the old and the new manifest and print what differs, stack by stack."""
    with tempfile.TemporaryDirectory(prefix="meridian-synth-") as tmp:
        # The program reads the manifest again by path, so a pipe (<(git show …)) is copied first.
        copy = Path(tmp) / (old_path.name if old_path.suffix in (".yaml", ".yml") else "old.yaml")
        try:
            copy.write_bytes(old_path.read_bytes())
        except OSError as exc:
            print(f"--diff {old_path}: cannot read it: {exc.strerror}", file=sys.stderr)
            return 2
        try:
            old = load_manifest(copy, on=deploy_date)
        except ManifestError as exc:
            print(f"--diff {old_path}: the old manifest is not valid:\n{exc}", file=sys.stderr)
            return 2
        old_stacks = chosen or [GLOBAL_KEY, *old.regions]
        new_stacks = chosen or [GLOBAL_KEY, *manifest.regions]
        try:
            old_plans = plan_stacks(old, [s for s in old_stacks if _plans(old, s)], config)
        except ManifestError as exc:
            print(f"--diff {old_path}: {exc}", file=sys.stderr)
            return 2
    new_plans = plan_stacks(manifest, [s for s in new_stacks if _plans(manifest, s)], config)
    diff = diff_plans(old_plans, new_plans)
    print(json.dumps({"stacks": diff}, indent=2) if as_json else _diff_text(diff))
    return 0


def _plans(manifest: Manifest, stack: str) -> bool:
    """Whether `stack` is a stack of `manifest` (a region removed in one side has no plan there)."""
    if is_global_stack(stack):
        return True
    try:
        manifest.region_for_stack(stack)
    except ManifestError:
        return False
    return True


def diff_plans(old: dict[str, StackPlan], new: dict[str, StackPlan]) -> dict[str, Any]:
    """Per stack: `status` (added, removed, changed, unchanged) and the resources added, removed
    and changed, each change as input path, old value, new value."""
    result: dict[str, Any] = {}
    for stack in [*new, *(s for s in old if s not in new)]:
        before = {(r.type, r.name): r for r in old[stack].resources} if stack in old else {}
        after = {(r.type, r.name): r for r in new[stack].resources} if stack in new else {}
        changed = []
        for key in sorted(before.keys() & after.keys()):
            was, now = dict(_flatten(before[key].inputs)), dict(_flatten(after[key].inputs))
            changes = [
                {"path": path, "old": was.get(path), "new": now.get(path)}
                for path in sorted(was.keys() | now.keys())
                if was.get(path) != now.get(path)
            ]
            if changes:
                changed.append({"type": key[0], "name": key[1], "changes": changes})
        added = [{"type": t, "name": n} for t, n in sorted(after.keys() - before.keys())]
        removed = [{"type": t, "name": n} for t, n in sorted(before.keys() - after.keys())]
        if stack not in old:
            status = "added"
        elif stack not in new:
            status = "removed"
        else:
            status = "changed" if added or removed or changed else "unchanged"
        result[stack] = {"status": status, "added": added, "removed": removed, "changed": changed}
    return result


def _diff_text(diff: dict[str, Any]) -> str:
    lines: list[str] = []
    for stack, d in diff.items():
        if d["status"] == "unchanged":
            lines.append(f"stack {stack}: no changes")
            continue
        counts = f"{len(d['added'])} to add, {len(d['changed'])} to change, {len(d['removed'])} to remove"
        status = {"added": "new stack, ", "removed": "stack no longer in the manifest, "}
        lines.append(f"stack {stack}: {status.get(d['status'], '')}{counts}")
        lines += [f"  + {r['type']}  {r['name']}" for r in d["added"]]
        lines += [f"  - {r['type']}  {r['name']}" for r in d["removed"]]
        for r in d["changed"]:
            lines.append(f"  ~ {r['type']}  {r['name']}")
            lines += [f"      {c['path']}: {c['old']} -> {c['new']}" for c in r["changes"]]
    return "\n".join(lines)


def _as_json(plans: dict[str, StackPlan], regions: dict[str, str]) -> dict[str, Any]:
    return {
        "stacks": {
            stack: {
                "region": regions[stack],
                "resources": [
                    {"type": r.type, "name": r.name, "inputs": r.inputs} for r in plan.resources
                ],
                "outputs": plan.outputs,
            }
            for stack, plan in plans.items()
        }
    }


_ROLE_NAMES = {
    COGNITIVE_SERVICES_OPENAI_USER: "Cognitive Services OpenAI User",
    COGNITIVE_SERVICES_SPEECH_USER: "Cognitive Services Speech User",
}


def _models_summary(manifest: Manifest, plans: dict[str, StackPlan]) -> list[str]:
    """Per provisioning region: its account, deployments and its identity's roles, gathered from
    the global stack and the region's stack (whichever were planned)."""
    lines: list[str] = []
    for stack, plan in plans.items():
        if not is_global_stack(stack):
            continue
        accounts = {a.inputs["accountName"]: a.inputs for a in plan.of_type(ACCOUNT)}
        grants = plan.of_type("azure-native:authorization:RoleAssignment")
        # The names carry the deployment's seed: read them where the stack exports them.
        exported = plan.outputs.get(GlobalOutput.AI_ACCOUNTS) or {}
        prefix = manifest.global_names(stack).prefix
        for region in manifest.regions.values():
            if region.ai is None:
                continue
            name = exported.get(region.key, {}).get("name", "")
            identity = manifest.region_names(region.key, prefix).identity
            account = accounts.get(name, {})
            props = account.get("properties", {})
            fallback = f", falls back to {region.ai.fallback}" if region.ai.fallback else ""
            lines.append(
                f"models of region {region.key} ({region.location}), residency"
                f" {region.ai.residency}{fallback}:"
            )
            local = "disabled" if props.get("disableLocalAuth") else "ENABLED"
            restore = ", restored from soft delete" if props.get("restore") else ""
            lines.append(
                f"  account {name} ({stack}): {account.get('kind')}, subdomain"
                f" {props.get('customSubDomainName')}, local auth {local}{restore}"
            )
            deployments = [
                d.inputs
                for p in plans.values()
                for d in p.of_type(DEPLOYMENT)
                if d.inputs.get("accountName") == name
            ]
            shown = ", ".join(
                f"{d['deploymentName']} {d['sku']['name']} x{d['sku']['capacity']}"
                for d in deployments
            )
            lines.append(
                f"  deployments (region stack, one after another): {shown or 'not planned here'}"
            )
            principal = f"{identity}-principal-id"
            roles: dict[str, list[str]] = {}
            for g in grants:
                role = g.inputs["roleDefinitionId"].rsplit("/", 1)[-1]
                if g.inputs["principalId"] == principal and role in _ROLE_NAMES:
                    roles.setdefault(_ROLE_NAMES[role], []).append(
                        g.inputs["scope"].rsplit("/", 1)[-1]
                    )
            for role, scopes in roles.items():
                lines.append(f"  {identity}: {role} on {', '.join(scopes)}")
    return lines


def _as_text(manifest: Manifest, plans: dict[str, StackPlan], regions: dict[str, str]) -> str:
    lines: list[str] = []
    for stack, plan in plans.items():
        if regions[stack] == GLOBAL_KEY:
            where = f"the global layer in {manifest.global_.location}"
        else:
            region = manifest.regions[regions[stack]]
            where = f"region {region.key} in {region.location}"
        lines.append(f"stack {stack}: {where}, {len(plan.resources)} resources")
        for resource in plan.resources:
            lines.append(f"  + {resource.type}  {resource.name}")
            lines += [f"      {path}: {value}" for path, value in _flatten(resource.inputs)]
        lines.append("  outputs:")
        lines += [f"      {key}: {value}" for key, value in plan.outputs.items()]
        lines.append("")
    lines += _models_summary(manifest, plans)
    return "\n".join(lines).rstrip()


def _flatten(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Dotted paths to leaf values; name/value lists (env, secrets) are keyed by their names."""
    if isinstance(value, dict):
        return [
            pair
            for key, item in value.items()
            for pair in _flatten(item, f"{path}.{key}" if path else key)
        ]
    if isinstance(value, list):
        if value and all(isinstance(item, dict) and "name" in item for item in value):
            named = {item["name"]: {k: v for k, v in item.items() if k != "name"} for item in value}
            return [
                pair
                for key, item in named.items()
                for pair in _flatten(_single(item), f"{path}[{key}]")
            ]
        if all(not isinstance(item, dict | list) for item in value):
            return [(path, ", ".join(str(item) for item in value))]
        return [pair for i, item in enumerate(value) for pair in _flatten(item, f"{path}[{i}]")]
    return [(path, str(value))]


def _single(item: dict[str, Any]) -> Any:
    # {"value": x} or {"secretRef": y} reads better as one leaf than as a nested key.
    if len(item) == 1:
        ((key, value),) = item.items()
        return value if key == "value" else f"{key} {value}"
    return item
