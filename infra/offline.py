"""Run the real Pulumi program offline, under Pulumi's mocks, and record what each stack would create."""

from __future__ import annotations

import asyncio
import contextvars
import runpy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_in_stack

from infra.env import agent_secrets, dispatch_secrets
from infra.manifest import DEFAULT_MANIFEST, Manifest

INFRA_DIR = Path(__file__).resolve().parent
PROJECT = "meridian"
SECRET_MASK = "[secret]"
FAKE_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class PlannedResource:
    """One resource as the program registers it: Pulumi type token, name and wire-name inputs."""

    type: str
    name: str
    inputs: dict[str, Any]


@dataclass
class StackPlan:
    """Everything one stack would create, with secret values masked."""

    stack: str
    resources: list[PlannedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_token: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str) -> PlannedResource:
        """The single resource of a type (raises if there is not exactly one)."""
        (found,) = self.of_type(type_token)
        return found


def synth_secrets(manifest: Manifest, region_key: str) -> dict[str, str]:
    """Placeholder secret config for an offline run: obviously fake, never real credentials."""
    needed = [*agent_secrets(manifest.regions[region_key]), *dispatch_secrets(manifest)]
    return {secret.config_key: f"synth-placeholder-{secret.secret_name}" for secret in needed}


def plan_stack(
    stack: str,
    manifest_path: Path = DEFAULT_MANIFEST,
    config: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> StackPlan:
    """Run infra/ for one stack under mocks; `config` and `secrets` are `meridian:` config values."""
    # Pulumi keeps its runtime state in context variables: a fresh context is a fresh engine.
    return contextvars.Context().run(
        _plan_in_context, stack, manifest_path, config or {}, secrets or {}
    )


def _plan_in_context(
    stack: str, manifest_path: Path, config: Mapping[str, str], secrets: Mapping[str, str]
) -> StackPlan:
    plan = StackPlan(stack=stack)
    values = {f"{PROJECT}:manifest": str(manifest_path)}
    values |= {f"{PROJECT}:{k}": v for k, v in config.items()}
    values |= {f"{PROJECT}:{k}": v for k, v in secrets.items()}
    set_all_config(values, [f"{PROJECT}:{k}" for k in secrets])

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        settings.reset_options(project=PROJECT, stack=stack, preview=False)
        mocks.set_mocks(
            _AzureMocks(),
            project=PROJECT,
            stack=stack,
            preview=False,
            monitor=_RecordingMonitor(plan),
        )
        # set_mocks installs a root stack; the real entry point makes its own, as `pulumi up` does.
        settings.set_root_resource(None)  # type: ignore[arg-type]
        loop.run_until_complete(
            run_in_stack(lambda: runpy.run_path(str(INFRA_DIR), run_name="__main__"))
        )
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    return plan


class _RecordingMonitor(mocks.MockMonitor):
    """A mock resource monitor that also records each registration with secrets masked."""

    def __init__(self, plan: StackPlan) -> None:
        super().__init__(_AzureMocks())
        self.plan = plan

    def RegisterResource(self, request: Any) -> Any:
        if request.custom and not request.type.startswith("pulumi:providers:"):
            inputs = _masked(json_format.MessageToDict(request.object))
            self.plan.resources.append(PlannedResource(request.type, request.name, inputs))
        return super().RegisterResource(request)

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn.endswith(f"pulumi:pulumi:Stack::{PROJECT}-{self.plan.stack}"):
            self.plan.outputs = _masked(json_format.MessageToDict(request.outputs))
        return super().RegisterResourceOutputs(request)


def _masked(value: Any) -> Any:
    """Replace every secret (Pulumi's secret signature) with a mask; keep everything else as is."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return SECRET_MASK
        return {k: _masked(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if value == rpc.UNKNOWN:
        return "[unknown]"
    # The wire carries every number as a double; integral ones were ints in the program.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class _AzureMocks(pulumi.runtime.Mocks):
    """Outputs Azure would compute (IDs, principal IDs, keys), made up deterministically."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        provider_type = args.typ.split(":")[1] if ":" in args.typ else args.typ
        rg = args.inputs.get("resourceGroupName", args.name)
        resource_id = f"/subscriptions/{FAKE_SUBSCRIPTION}/resourceGroups/{rg}/providers/{provider_type}/{args.name}"
        state = dict(args.inputs)
        if "identity" in state:
            # Azure takes user-assigned identities as a list of IDs but returns them as a map.
            ids = state["identity"].get("userAssignedIdentities") or []
            state["identity"] = {
                **state["identity"],
                "userAssignedIdentities": {i: {} for i in ids},
            }
        state.setdefault("name", args.name)
        state |= {"id": resource_id}
        if args.typ == "azure-native:operationalinsights:Workspace":
            state["customerId"] = f"{args.name}-customer-id"
        if args.typ == "azure-native:managedidentity:UserAssignedIdentity":
            state |= {
                "principalId": f"{args.name}-principal-id",
                "clientId": f"{args.name}-client-id",
            }
        if args.typ == "azure-native:app:ContainerApp":
            env_domain = f"mock-env.{args.inputs.get('location', 'eastus')}.azurecontainerapps.io"
            state["latestRevisionFqdn"] = f"{args.name}.{env_domain}"
            configuration = args.inputs.get("configuration") or {}
            # Holding secrets makes the whole configuration secret; Azure's answer stays secret too.
            secret = rpc.is_rpc_secret(configuration)
            configuration = rpc.unwrap_rpc_secret(configuration) if secret else configuration
            if configuration.get("ingress"):
                ingress = {**configuration["ingress"], "fqdn": f"{args.name}.{env_domain}"}
                configuration = {**configuration, "ingress": ingress}
                state["configuration"] = (
                    rpc.wrap_rpc_secret(configuration) if secret else configuration
                )
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        if args.token == "azure-native:operationalinsights:getSharedKeys":
            return {"primarySharedKey": "mock-workspace-key", "secondarySharedKey": "mock"}, []
        return {}, []
