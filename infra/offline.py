"""Run the real Pulumi program offline, under Pulumi's mocks, and record what each stack would create."""

from __future__ import annotations

import asyncio
import base64
import contextvars
import hashlib
import logging
import runpy
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_in_stack

from infra.manifest import DEFAULT_MANIFEST, Manifest, global_stack_for, is_global_stack
from infra.manifest.names import SEED_BYTES

INFRA_DIR = Path(__file__).resolve().parent
PROJECT = "meridian"
SECRET_MASK = "[secret]"
FAKE_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
FAKE_TENANT = "11111111-1111-1111-1111-111111111111"


@dataclass(frozen=True)
class PlannedResource:
    """One resource as the program registers it: Pulumi type token, name and wire-name inputs."""

    type: str
    name: str
    inputs: dict[str, Any]
    # URNs of the resources it waits for (depends_on and inputs from other resources).
    dependencies: tuple[str, ...] = ()


@dataclass
class StackPlan:
    """Everything one stack would create, with secret values masked."""

    stack: str
    resources: list[PlannedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    # What the program logged as warnings (pulumi.log.warn), kept rather than printed.
    warnings: list[str] = field(default_factory=list)

    def of_type(self, type_token: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str) -> PlannedResource:
        """The single resource of a type (raises if there is not exactly one)."""
        (found,) = self.of_type(type_token)
        return found


def synth_seed(stack: str) -> str:
    """The deployment seed an offline run shows: made up from the stack name, so `prod-global`
    and `staging-global` differ as two real deployments would (a deploy draws a random one)."""
    return hashlib.sha256(f"meridian-synth|{stack}".encode()).hexdigest()[: 2 * SEED_BYTES]


def plan_stacks(
    manifest: Manifest,
    stacks: list[str],
    config: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> dict[str, StackPlan]:
    """Plan each stack the way a deploy runs them: a region stack reads the outputs of the global
    stack it names, so that global stack is planned first (and shown when asked for). `secrets`
    is secret config the global stack is given (it reads none: secret values live in the vault)."""
    plans: dict[str, StackPlan] = {}
    globals_: dict[str, StackPlan] = {}

    def global_plan(name: str) -> StackPlan:
        if name not in globals_:
            globals_[name] = plan_stack(
                name,
                manifest.path,
                config=config,
                secrets=secrets,
            )
        return globals_[name]

    for stack in stacks:
        if is_global_stack(stack):
            plans[stack] = global_plan(stack)
        else:
            region = manifest.region_for_stack(stack)
            outputs = global_plan(global_stack_for(stack, region.key)).outputs
            plans[stack] = plan_stack(stack, manifest.path, config=config, global_outputs=outputs)
    return plans


def plan_stack(
    stack: str,
    manifest_path: Path = DEFAULT_MANIFEST,
    config: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    global_outputs: Mapping[str, Any] | None = None,
    *,
    preview: bool = True,
) -> StackPlan:
    """Run infra/ for one stack under mocks; `config` and `secrets` are `meridian:` config values,
    `global_outputs` what the region's StackReference to the global stack returns. It runs as
    `pulumi preview` does (`preview=False`: as `pulumi up` does)."""
    # Pulumi keeps its runtime state in context variables: a fresh context is a fresh engine.
    return contextvars.Context().run(
        _plan_in_context,
        stack,
        manifest_path,
        config or {},
        secrets or {},
        global_outputs or {},
        preview,
    )


def _plan_in_context(
    stack: str,
    manifest_path: Path,
    config: Mapping[str, str],
    secrets: Mapping[str, str],
    global_outputs: Mapping[str, Any],
    preview: bool,
) -> StackPlan:
    plan = StackPlan(stack=stack)
    # No Azure to ask which AI accounts are soft-deleted: none, unless the caller says.
    values = {f"{PROJECT}:manifest": str(manifest_path), f"{PROJECT}:deletedAiAccounts": "[]"}
    values |= {f"{PROJECT}:{k}": v for k, v in config.items()}
    values |= {f"{PROJECT}:{k}": v for k, v in secrets.items()}
    set_all_config(values, [f"{PROJECT}:{k}" for k in secrets])

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        settings.reset_options(project=PROJECT, stack=stack, preview=preview)
        azure = _AzureMocks(global_outputs, seed=synth_seed(stack))
        mocks.set_mocks(
            azure,
            project=PROJECT,
            stack=stack,
            preview=preview,
            logger=_warnings_into(plan),
            monitor=_RecordingMonitor(plan, azure),
        )
        # set_mocks installs a root stack; the real entry point makes its own, as `pulumi up` does.
        settings.set_root_resource(None)  # type: ignore[arg-type]
        loop.run_until_complete(
            run_in_stack(lambda: runpy.run_path(str(INFRA_DIR), run_name="__main__"))
        )
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    # Resources register as their inputs resolve, in an order that varies from run to run; sorted,
    # two runs of the same manifest print the same plan, and two manifests diff cleanly.
    plan.resources.sort(key=lambda r: (r.type, r.name))
    return plan


def _warnings_into(plan: StackPlan) -> logging.Logger:
    """A logger that keeps the program's warnings in the plan (synth prints the manifest's once)."""

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                plan.warnings.append(record.getMessage())

    logger = logging.getLogger(f"meridian.offline.{plan.stack}")
    logger.handlers = [_Keep()]
    logger.propagate = False
    return logger


class _RecordingMonitor(mocks.MockMonitor):
    """A mock resource monitor that also records each registration with secrets masked."""

    def __init__(self, plan: StackPlan, azure: _AzureMocks) -> None:
        super().__init__(azure)
        self.plan = plan

    def RegisterResource(self, request: Any) -> Any:
        if request.custom and not request.type.startswith(("pulumi:providers:", "pulumi:pulumi:")):
            inputs = _masked(json_format.MessageToDict(request.object))
            self.plan.resources.append(
                PlannedResource(request.type, request.name, inputs, tuple(request.dependencies))
            )
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
    """Outputs Azure would compute (IDs, principal IDs, keys, host names), made up
    deterministically; a StackReference returns the given global stack outputs."""

    def __init__(self, global_outputs: Mapping[str, Any] | None = None, seed: str = "") -> None:
        self.global_outputs = dict(global_outputs or {})
        self.seed = seed or synth_seed("")

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == "pulumi:pulumi:StackReference":
            name = args.inputs.get("name", args.name)
            return name, {"name": name, "outputs": self.global_outputs, "secretOutputNames": []}
        if args.typ == "random:index/randomId:RandomId":
            # hex is what the program reads; the other encodings of the same bytes for completeness.
            raw = bytes.fromhex(self.seed)
            return f"{args.name}-id", {
                **args.inputs,
                "hex": self.seed,
                "dec": str(int.from_bytes(raw, "big")),
                "b64Std": base64.b64encode(raw).decode(),
                "b64Url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
            }
        provider_type = args.typ.split(":")[1] if ":" in args.typ else args.typ
        rg = args.inputs.get("resourceGroupName", args.name)
        # Azure names a resource by its own name input (originGroupName, vaultName, ...), not by
        # the Pulumi resource name.
        name = args.inputs.get(_NAME_INPUTS.get(args.typ, ""), args.name)
        resource_id = f"/subscriptions/{FAKE_SUBSCRIPTION}/resourceGroups/{rg}/providers/{provider_type}/{name}"
        state = dict(args.inputs)
        if "identity" in state:
            # Azure takes user-assigned identities as a list of IDs but returns them as a map.
            ids = state["identity"].get("userAssignedIdentities") or []
            state["identity"] = {
                **state["identity"],
                "userAssignedIdentities": {i: {} for i in ids},
            }
        state.setdefault("name", name)
        state |= {"id": resource_id}
        if args.typ == "azure-native:operationalinsights:Workspace":
            state["customerId"] = f"{args.name}-customer-id"
        if args.typ == "azure-native:managedidentity:UserAssignedIdentity":
            state |= {
                "principalId": f"{args.name}-principal-id",
                "clientId": f"{args.name}-client-id",
            }
        state |= _computed(args.typ, name, args.inputs)
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
        if args.token == "azure-native:authorization:getClientConfig":
            return {
                "clientId": "mock-client-id",
                "objectId": "mock-object-id",
                "subscriptionId": FAKE_SUBSCRIPTION,
                "tenantId": FAKE_TENANT,
            }, []
        return {}, []


_NAME_INPUTS = {
    "azure-native:resources:ResourceGroup": "resourceGroupName",
    "azure-native:containerregistry:Registry": "registryName",
    "azure-native:containerregistry:Replication": "replicationName",
    "azure-native:keyvault:Vault": "vaultName",
    "azure-native:keyvault:Secret": "secretName",
    "azure-native:managedidentity:UserAssignedIdentity": "resourceName",
    "azure-native:cdn:Profile": "profileName",
    "azure-native:cdn:AFDEndpoint": "endpointName",
    "azure-native:cdn:AFDOriginGroup": "originGroupName",
    "azure-native:cdn:AFDOrigin": "originName",
    "azure-native:cdn:Route": "routeName",
    "azure-native:storage:StorageAccount": "accountName",
    "azure-native:storage:Blob": "blobName",
    "azure-native:storage:BlobContainer": "containerName",
    "azure-native:operationalinsights:Workspace": "workspaceName",
    "azure-native:app:ManagedEnvironment": "environmentName",
    "azure-native:app:ContainerApp": "containerAppName",
    "azure-native:authorization:RoleAssignment": "roleAssignmentName",
    "azure-native:cognitiveservices:Account": "accountName",
    "azure-native:cognitiveservices:Deployment": "deploymentName",
}


def _computed(typ: str, name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The properties Azure computes for the global layer's resources."""
    if typ == "azure-native:containerregistry:Registry":
        return {"loginServer": f"{name}.azurecr.io"}
    if typ == "azure-native:keyvault:Vault":
        return {
            "properties": {
                **inputs.get("properties", {}),
                "vaultUri": f"https://{name}.vault.azure.net/",
            }
        }
    if typ == "azure-native:cdn:Profile":
        return {"frontDoorId": str(uuid.uuid5(uuid.NAMESPACE_DNS, name))}
    if typ == "azure-native:cdn:AFDEndpoint":
        return {"hostName": f"{name}-mock.z01.azurefd.net"}
    if typ == "azure-native:storage:StorageAccount":
        return {
            "primaryEndpoints": {
                "web": f"https://{name}.z6.web.core.windows.net/",
                "blob": f"https://{name}.blob.core.windows.net/",
            }
        }
    if typ == "azure-native:app:ContainerApp":
        return {"latestRevisionName": f"{name}--mock1"}
    if typ == "azure-native:cognitiveservices:Account":
        subdomain = inputs.get("properties", {}).get("customSubDomainName", name)
        return {
            "properties": {
                **inputs.get("properties", {}),
                "endpoint": f"https://{subdomain}.cognitiveservices.azure.com/",
            }
        }
    return {}
