"""RegionalAgent: everything one region needs to run the agent on Azure Container Apps."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import app, authorization, managedidentity, operationalinsights, resources

from infra.env import (
    EnvVar,
    SecretSpec,
    agent_env,
    agent_secrets,
    dispatch_env,
    dispatch_secrets,
)
from infra.manifest import Manifest, Probe, Region, Resources
from meridian.contract import AGENT_HEALTH_PORT, DISPATCH_PORT

# Azure's built-in AcrPull role: pull images, nothing else.
ACR_PULL_ROLE = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
# dispatch answers /healthz from memory, so quick probes are cheap and catch a hung process fast.
DISPATCH_PROBE = Probe(
    initial_delay_seconds=2, period_seconds=10, timeout_seconds=3, failure_threshold=3
)
# Token requests finish in milliseconds; this only lets in-flight requests complete.
DISPATCH_GRACE_SECONDS = 30


class RegionalAgent(pulumi.ComponentResource):
    """Resource group, Log Analytics, Container Apps environment, identity, agent and dispatch apps."""

    def __init__(
        self,
        manifest: Manifest,
        region: Region,
        secrets: Mapping[str, pulumi.Output[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meridian:index:RegionalAgent", region.key, None, opts)
        agent = manifest.agent
        names = region.names
        location = region.location
        tags = {
            **region.tags,
            "meridian-region": region.key,
            "meridian-agent": region.tagged_agent_name,
            "managed-by": "meridian",
        }
        child = pulumi.ResourceOptions(parent=self)

        self.resource_group = resources.ResourceGroup(
            names.resource_group,
            resource_group_name=names.resource_group,
            location=location,
            tags=tags,
            opts=child,
        )
        rg_name = self.resource_group.name

        self.workspace = operationalinsights.Workspace(
            names.workspace,
            workspace_name=names.workspace,
            resource_group_name=rg_name,
            location=location,
            sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=30,
            tags=tags,
            opts=child,
        )
        workspace_key = operationalinsights.get_shared_keys_output(
            resource_group_name=rg_name, workspace_name=self.workspace.name
        ).primary_shared_key.apply(lambda key: pulumi.Output.secret(key or ""))

        self.environment = app.ManagedEnvironment(
            names.environment,
            environment_name=names.environment,
            resource_group_name=rg_name,
            location=location,
            workload_profiles=[
                app.WorkloadProfileArgs(name="Consumption", workload_profile_type="Consumption")
            ],
            app_logs_configuration=app.AppLogsConfigurationArgs(
                destination="log-analytics",
                log_analytics_configuration=app.LogAnalyticsConfigurationArgs(
                    customer_id=self.workspace.customer_id,
                    shared_key=workspace_key,
                ),
            ),
            tags=tags,
            opts=child,
        )

        self.identity = managedidentity.UserAssignedIdentity(
            names.identity,
            resource_name_=names.identity,
            resource_group_name=rg_name,
            location=location,
            tags=tags,
            opts=child,
        )

        app_depends_on: list[pulumi.Resource] = []
        registries: list[app.RegistryCredentialsArgs] = []
        if agent.registry and agent.registry_login_server:
            # The app waits for this grant, so its first image pull is already authorised.
            self.acr_pull = authorization.RoleAssignment(
                f"{names.identity}-acrpull",
                role_assignment_name=str(
                    uuid.uuid5(uuid.NAMESPACE_URL, f"{agent.registry}/{names.identity}")
                ),
                principal_id=self.identity.principal_id,
                principal_type="ServicePrincipal",
                role_definition_id=_role_definition_id(agent.registry, ACR_PULL_ROLE),
                scope=agent.registry,
                opts=child,
            )
            app_depends_on.append(self.acr_pull)
            registries.append(
                app.RegistryCredentialsArgs(
                    server=agent.registry_login_server, identity=self.identity.id
                )
            )

        shared = _AppShared(
            resource_group_name=rg_name,
            location=location,
            environment_id=self.environment.id,
            identity_id=self.identity.id,
            registries=registries,
            secrets=secrets,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=app_depends_on),
        )

        # Workers dial out to LiveKit; the ingress is internal only, so that dispatch (and nothing
        # outside the environment) can read the worker's status on /worker.
        self.app = shared.container_app(
            names.app,
            container=app.ContainerArgs(
                name="agent",
                image=agent.image,
                command=["python", "-m", "agent"],
                args=["start"],
                env=_env_args(agent_env(region)),
                resources=_resources(region.resources),
                probes=[
                    _http_probe("Startup", "/", AGENT_HEALTH_PORT, region.probes.startup),
                    _http_probe("Liveness", "/", AGENT_HEALTH_PORT, region.probes.liveness),
                ],
            ),
            secrets=agent_secrets(region),
            ingress=app.IngressArgs(
                external=False, target_port=AGENT_HEALTH_PORT, transport="http"
            ),
            scale=app.ScaleArgs(
                min_replicas=region.replicas.min,
                max_replicas=region.replicas.max,
                rules=[
                    app.ScaleRuleArgs(
                        name="cpu",
                        custom=app.CustomScaleRuleArgs(
                            type="cpu",
                            metadata={
                                "type": "Utilization",
                                "value": str(region.scale.cpu_percent),
                            },
                        ),
                    )
                ],
            ),
            grace_seconds=region.grace_seconds,
        )

        dispatch = manifest.dispatch
        self.dispatch = shared.container_app(
            names.dispatch_app,
            container=app.ContainerArgs(
                name="dispatch",
                image=agent.image,
                command=["python", "-m", "dispatch"],
                env=_env_args(dispatch_env(manifest, region)),
                resources=_resources(dispatch.resources),
                probes=[
                    _http_probe(kind, "/healthz", DISPATCH_PORT, DISPATCH_PROBE)
                    for kind in ("Startup", "Liveness", "Readiness")
                ],
            ),
            secrets=dispatch_secrets(manifest),
            ingress=app.IngressArgs(
                external=True, target_port=DISPATCH_PORT, transport="http", allow_insecure=False
            ),
            scale=app.ScaleArgs(
                min_replicas=dispatch.replicas.min,
                max_replicas=dispatch.replicas.max,
                rules=[
                    app.ScaleRuleArgs(
                        name="http",
                        http=app.HttpScaleRuleArgs(metadata={"concurrentRequests": "100"}),
                    )
                ],
            ),
            grace_seconds=DISPATCH_GRACE_SECONDS,
        )
        # The app's configuration output is secret (it holds the secrets); its public FQDN is not.
        self.dispatch_url = pulumi.Output.unsecret(
            self.dispatch.configuration.apply(
                lambda c: f"https://{c.ingress.fqdn}" if c and c.ingress and c.ingress.fqdn else ""
            )
        )

        self.register_outputs({"appName": self.app.name, "dispatchUrl": self.dispatch_url})


@dataclass(frozen=True)
class _AppShared:
    """What every container app of a region shares: environment, identity, registry, tags."""

    resource_group_name: pulumi.Input[str]
    location: str
    environment_id: pulumi.Input[str]
    identity_id: pulumi.Input[str]
    registries: list[app.RegistryCredentialsArgs]
    secrets: Mapping[str, pulumi.Output[str]]
    tags: dict[str, str]
    opts: pulumi.ResourceOptions

    def container_app(
        self,
        name: str,
        container: app.ContainerArgs,
        secrets: list[SecretSpec],
        ingress: app.IngressArgs,
        scale: app.ScaleArgs,
        grace_seconds: int,
    ) -> app.ContainerApp:
        return app.ContainerApp(
            name,
            container_app_name=name,
            resource_group_name=self.resource_group_name,
            location=self.location,
            managed_environment_id=self.environment_id,
            workload_profile_name="Consumption",
            identity=app.ManagedServiceIdentityArgs(
                type="UserAssigned", user_assigned_identities=[self.identity_id]
            ),
            configuration=app.ConfigurationArgs(
                active_revisions_mode="Single",
                ingress=ingress,
                secrets=[
                    app.SecretArgs(name=s.secret_name, value=self.secrets[s.env]) for s in secrets
                ],
                registries=self.registries or None,
            ),
            template=app.TemplateArgs(
                containers=[container],
                scale=scale,
                termination_grace_period_seconds=grace_seconds,
            ),
            tags=self.tags,
            opts=self.opts,
        )


def _env_args(env: list[EnvVar]) -> list[app.EnvironmentVarArgs]:
    return [
        app.EnvironmentVarArgs(name=var.name, secret_ref=var.secret.secret_name)
        if var.secret
        else app.EnvironmentVarArgs(name=var.name, value=var.value)
        for var in env
    ]


def _resources(resources: Resources) -> app.ContainerResourcesArgs:
    return app.ContainerResourcesArgs(cpu=resources.cpu, memory=resources.memory)


def _http_probe(kind: str, path: str, port: int, probe: Probe) -> app.ContainerAppProbeArgs:
    return app.ContainerAppProbeArgs(
        type=kind,
        http_get=app.ContainerAppProbeHttpGetArgs(path=path, port=port),
        initial_delay_seconds=probe.initial_delay_seconds,
        period_seconds=probe.period_seconds,
        timeout_seconds=probe.timeout_seconds,
        failure_threshold=probe.failure_threshold,
    )


def _role_definition_id(scope: str, role: str) -> str:
    subscription = re.match(r"^/subscriptions/([^/]+)", scope)
    assert subscription, "registry IDs are validated by the manifest"
    return (
        f"/subscriptions/{subscription[1]}/providers/Microsoft.Authorization/roleDefinitions/{role}"
    )
