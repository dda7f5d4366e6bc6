"""`make synth`: show what each stack would create, by running the real Pulumi program offline under
mocks (infra/offline.py), as text or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from infra.azure_roles import COGNITIVE_SERVICES_OPENAI_USER, COGNITIVE_SERVICES_SPEECH_USER
from infra.manifest import (
    DEFAULT_MANIFEST,
    GLOBAL_KEY,
    Manifest,
    ManifestError,
    is_global_stack,
    load_manifest,
)
from infra.offline import StackPlan, plan_stacks

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
    plans = plan_stacks(manifest, stacks, config)
    if args.json:
        print(json.dumps(_as_json(plans, regions), indent=2))
    else:
        print(_as_text(manifest, plans, regions))
    return 0


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
        for region in manifest.regions.values():
            if region.ai is None:
                continue
            name = manifest.global_names(stack).ai_account(region.key)
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
            principal = f"{region.names.identity}-principal-id"
            roles: dict[str, list[str]] = {}
            for g in grants:
                role = g.inputs["roleDefinitionId"].rsplit("/", 1)[-1]
                if g.inputs["principalId"] == principal and role in _ROLE_NAMES:
                    roles.setdefault(_ROLE_NAMES[role], []).append(
                        g.inputs["scope"].rsplit("/", 1)[-1]
                    )
            for role, scopes in roles.items():
                lines.append(f"  {region.names.identity}: {role} on {', '.join(scopes)}")
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
