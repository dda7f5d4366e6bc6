"""RegionalAgent: everything one region needs to run the agent on Azure Container Apps."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping

import pulumi
from pulumi_azure_native import app, authorization, managedidentity, operationalinsights, resources

from infra.env import agent_env, agent_secrets
from infra.manifest import AgentSettings, Probe, Region

# Azure's built-in AcrPull role: pull images, nothing else.
ACR_PULL_ROLE = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
# The livekit-agents worker's own HTTP server: "/" is health, "/worker" is status.
HEALTH_PORT = 8081


class RegionalAgent(pulumi.ComponentResource):
    """A resource group, Log Analytics, a Container Apps environment, an identity and the agent app."""

    def __init__(
        self,
        region: Region,
        agent: AgentSettings,
        secrets: Mapping[str, pulumi.Output[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meridian:index:RegionalAgent", region.key, None, opts)
        names = region.names
        location = region.location
        tags = {
            **region.tags,
            "meridian-region": region.key,
            "meridian-agent": region.agent_name,
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

        settings = region.settings
        self.app = app.ContainerApp(
            names.app,
            container_app_name=names.app,
            resource_group_name=rg_name,
            location=location,
            managed_environment_id=self.environment.id,
            workload_profile_name="Consumption",
            identity=app.ManagedServiceIdentityArgs(
                type="UserAssigned", user_assigned_identities=[self.identity.id]
            ),
            configuration=app.ConfigurationArgs(
                active_revisions_mode="Single",
                # No ingress: workers dial out to LiveKit, nothing dials in.
                secrets=[
                    app.SecretArgs(name=secret.secret_name, value=secrets[secret.env])
                    for secret in agent_secrets(region)
                ],
                registries=registries or None,
            ),
            template=app.TemplateArgs(
                containers=[
                    app.ContainerArgs(
                        name="agent",
                        image=agent.image,
                        command=["python", "-m", "agent"],
                        args=["start"],
                        env=[
                            app.EnvironmentVarArgs(name=var.name, secret_ref=var.secret.secret_name)
                            if var.secret
                            else app.EnvironmentVarArgs(name=var.name, value=var.value)
                            for var in agent_env(region)
                        ],
                        resources=app.ContainerResourcesArgs(
                            cpu=settings.resources.cpu, memory=settings.resources.memory
                        ),
                        probes=[
                            _health_probe("Startup", settings.probes.startup),
                            _health_probe("Liveness", settings.probes.liveness),
                        ],
                    )
                ],
                scale=app.ScaleArgs(
                    min_replicas=settings.replicas.min,
                    max_replicas=settings.replicas.max,
                    rules=[
                        app.ScaleRuleArgs(
                            name="cpu",
                            custom=app.CustomScaleRuleArgs(
                                type="cpu",
                                metadata={
                                    "type": "Utilization",
                                    "value": str(settings.scale.cpu_percent),
                                },
                            ),
                        )
                    ],
                ),
                termination_grace_period_seconds=settings.grace_seconds,
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=app_depends_on),
        )

        self.register_outputs({"appName": self.app.name, "resourceGroup": rg_name})


def _health_probe(kind: str, probe: Probe) -> app.ContainerAppProbeArgs:
    return app.ContainerAppProbeArgs(
        type=kind,
        http_get=app.ContainerAppProbeHttpGetArgs(path="/", port=HEALTH_PORT),
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
