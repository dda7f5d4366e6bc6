"""RegionalAgent: one region's stamp. Its Container Apps environment, the agent and dispatch apps,
and its place in the global Front Door; the identity, registry and secrets come from the global
stack."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_azure_native import app, cdn, cognitiveservices, operationalinsights, resources

from infra.env import (
    AgentAccess,
    AiAccount,
    EnvVar,
    GlobalEntry,
    SecretSpec,
    agent_env,
    agent_secrets,
    dispatch_env,
    dispatch_secrets,
)
from infra.global_layer import REGION_PRIORITY, origin_group_settings
from infra.global_refs import GlobalRefs
from infra.manifest import AiModels, Manifest, Probe, Region, ResourceNames, Resources
from meridian.contract import (
    AGENT_COMMAND,
    AGENT_HEALTH_PORT,
    DISPATCH_COMMAND,
    DISPATCH_PORT,
    region_route_prefix,
)

# dispatch answers /healthz from memory, so quick probes are cheap and catch a hung process fast.
DISPATCH_PROBE = Probe(
    initial_delay_seconds=2, period_seconds=10, timeout_seconds=3, failure_threshold=3
)
# Token requests finish in milliseconds; this only lets in-flight requests complete.
DISPATCH_GRACE_SECONDS = 30


class RegionalAgent(pulumi.ComponentResource):
    """Resource group, Log Analytics, Container Apps environment, the agent and dispatch apps, and
    the region's Front Door origins and route."""

    def __init__(
        self,
        manifest: Manifest,
        region: Region,
        names: ResourceNames,
        image: str,
        refs: GlobalRefs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meridian:index:RegionalAgent", region.key, None, opts)
        location = region.location
        tags = {
            **region.tags,
            "meridian-region": region.key,
            "meridian-agent": names.tagged_agent_name,
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

        shared = _AppShared(
            resource_group_name=rg_name,
            location=location,
            environment_id=self.environment.id,
            refs=refs,
            tags=tags,
            opts=child,
        )

        # The region's model deployments, on the account the global stack made, one after another.
        self.deployments: list[cognitiveservices.Deployment] = []
        if region.ai is not None:
            account = refs.ai_account(region.key)
            self.deployments = model_deployments(
                region.ai,
                account_name=account.apply(lambda a: a["name"]),
                resource_group_name=refs.resource_group,
                prefix=names.app,
                parent=self,
            )
        access = _agent_access(manifest, region, refs)

        # Workers dial out to LiveKit. The ingress is internal only, so that dispatch (and nothing
        # outside the environment) can read the worker's status on /worker; plain http is allowed
        # inside the environment so that call is not redirected to an https name it cannot use.
        self.app = shared.container_app(
            names.app,
            container=app.ContainerArgs(
                name="agent",
                image=image,
                command=list(AGENT_COMMAND),
                args=["start"],
                env=access.apply(lambda a: _env_args(agent_env(region, a, names))),
                resources=_resources(region.resources),
                probes=[
                    _http_probe("Startup", "/", AGENT_HEALTH_PORT, region.probes.startup),
                    _http_probe("Liveness", "/", AGENT_HEALTH_PORT, region.probes.liveness),
                ],
            ),
            secrets=agent_secrets(region),
            ingress=app.IngressArgs(
                external=False,
                target_port=AGENT_HEALTH_PORT,
                transport="http",
                allow_insecure=True,
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
            # The first revision finds its deployments in place.
            depends_on=self.deployments[-1:],
        )

        dispatch = manifest.dispatch
        entry = pulumi.Output.all(
            refs.global_url, refs.front_door_id, refs.region_table_url, refs.identity_client_id
        ).apply(
            lambda values: GlobalEntry(
                url=values[0],
                front_door_id=values[1],
                region_table_url=values[2],
                identity_client_id=values[3],
            )
        )
        self.dispatch = shared.container_app(
            names.dispatch_app,
            container=app.ContainerArgs(
                name="dispatch",
                image=image,
                command=list(DISPATCH_COMMAND),
                env=entry.apply(lambda e: _env_args(dispatch_env(manifest, region, e, names))),
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
        # The app's configuration output is secret (it holds secret references); its FQDN is not.
        self.dispatch_host = pulumi.Output.unsecret(
            self.dispatch.configuration.apply(
                lambda c: c.ingress.fqdn if c and c.ingress and c.ingress.fqdn else ""
            )
        )
        self.dispatch_url = self.dispatch_host.apply(lambda host: f"https://{host}")
        self._join_front_door(manifest, region, names, refs)
        self.register_outputs({"appName": self.app.name, "dispatchUrl": self.dispatch_url})

    def _join_front_door(
        self, manifest: Manifest, region: Region, names: ResourceNames, refs: GlobalRefs
    ) -> None:
        """The region's dispatch joins the shared latency-routed origin group, and gets its own
        group and route (/regions/<key>/*) so that peers can probe exactly this region."""
        child = pulumi.ResourceOptions(parent=self)

        def origin(name: str, group: pulumi.Input[str]) -> cdn.AFDOrigin:
            return cdn.AFDOrigin(
                name,
                origin_name=names.origin,
                origin_group_name=group,
                profile_name=refs.front_door_profile,
                resource_group_name=refs.resource_group,
                host_name=self.dispatch_host,
                origin_host_header=self.dispatch_host,
                http_port=80,
                https_port=443,
                priority=REGION_PRIORITY,
                weight=1000,
                enabled_state="Enabled",
                enforce_certificate_name_check=True,
                opts=child,
            )

        self.shared_origin = origin(f"afd-origin-{region.key}", refs.origin_group)
        self.own_origin_group = cdn.AFDOriginGroup(
            f"afd-{names.origin_group}",
            origin_group_name=names.origin_group,
            profile_name=refs.front_door_profile,
            resource_group_name=refs.resource_group,
            **origin_group_settings(manifest),
            opts=child,
        )
        own_origin = origin(f"afd-{names.origin_group}-origin", self.own_origin_group.name)
        self.route = cdn.Route(
            f"afd-{names.route}",
            route_name=names.route,
            endpoint_name=refs.endpoint,
            profile_name=refs.front_door_profile,
            resource_group_name=refs.resource_group,
            origin_group=cdn.ResourceReferenceArgs(id=self.own_origin_group.id),
            patterns_to_match=[f"{region_route_prefix(region.key)}/*"],
            supported_protocols=["Https"],
            forwarding_protocol="HttpsOnly",
            link_to_default_domain="Enabled",
            enabled_state="Enabled",
            # Azure creates a route only once its origin group has an enabled origin.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[own_origin]),
        )


@dataclass(frozen=True)
class _AppShared:
    """What every container app of a region shares: environment, identity, registry, vault, tags."""

    resource_group_name: pulumi.Input[str]
    location: str
    environment_id: pulumi.Input[str]
    refs: GlobalRefs
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
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> app.ContainerApp:
        refs = self.refs
        return app.ContainerApp(
            name,
            container_app_name=name,
            resource_group_name=self.resource_group_name,
            location=self.location,
            managed_environment_id=self.environment_id,
            workload_profile_name="Consumption",
            identity=app.ManagedServiceIdentityArgs(
                type="UserAssigned", user_assigned_identities=[refs.identity_id]
            ),
            configuration=app.ConfigurationArgs(
                active_revisions_mode="Single",
                ingress=ingress,
                # Secrets are Key Vault references read with the region's identity: the values
                # live only in the vault, and a restart picks up a rotated one.
                secrets=[
                    app.SecretArgs(
                        name=s.secret_name,
                        key_vault_url=refs.secret_url(s.secret_name),
                        identity=refs.identity_id,
                    )
                    for s in secrets
                ],
                registries=[
                    app.RegistryCredentialsArgs(
                        server=refs.registry_login_server, identity=refs.identity_id
                    )
                ],
            ),
            template=app.TemplateArgs(
                containers=[container],
                scale=scale,
                termination_grace_period_seconds=grace_seconds,
            ),
            tags=self.tags,
            opts=pulumi.ResourceOptions.merge(
                self.opts, pulumi.ResourceOptions(depends_on=list(depends_on))
            ),
        )


def model_deployments(
    ai: AiModels,
    *,
    account_name: pulumi.Input[str],
    resource_group_name: pulumi.Input[str],
    prefix: str,
    parent: pulumi.Resource,
) -> list[cognitiveservices.Deployment]:
    """The account's deployments, each waiting for the one before: Azure answers 409
    RequestConflict to a second deployment on an account while one is in progress."""
    created: list[cognitiveservices.Deployment] = []
    for spec in ai.deployments:
        created.append(
            cognitiveservices.Deployment(
                f"{prefix}-{spec.name}",
                deployment_name=spec.name,
                account_name=account_name,
                resource_group_name=resource_group_name,
                sku=cognitiveservices.SkuArgs(name=spec.sku, capacity=spec.capacity),
                properties=cognitiveservices.DeploymentPropertiesArgs(
                    model=cognitiveservices.DeploymentModelArgs(
                        format="OpenAI", name=spec.model, version=spec.version
                    ),
                ),
                opts=pulumi.ResourceOptions(
                    parent=parent,
                    depends_on=created[-1:],
                    # same name, new settings: the old one must go before the new one is made
                    delete_before_replace=True,
                ),
            )
        )
    return created


def _agent_access(
    manifest: Manifest, region: Region, refs: GlobalRefs
) -> pulumi.Output[AgentAccess]:
    """The identity's client ID and the AI accounts (own and fallback) the agent calls."""
    ai = region.ai
    if ai is None:
        return refs.identity_client_id.apply(lambda client_id: AgentAccess(client_id))
    fallback = refs.ai_account(ai.fallback) if ai.fallback else pulumi.Output.from_input({})
    fallback_llm = None
    if ai.fallback and "llm" in ai.stages:
        other = manifest.regions[ai.fallback].ai
        fallback_llm = other.llm.name if other and other.llm else None

    def access(values: list[Any]) -> AgentAccess:
        client_id, own, other = values
        return AgentAccess(
            identity_client_id=client_id,
            account=_account(own),
            fallback=_account(other) if other else None,
            fallback_llm=fallback_llm,
        )

    return pulumi.Output.all(refs.identity_client_id, refs.ai_account(region.key), fallback).apply(
        access
    )


def _account(output: dict[str, str]) -> AiAccount:
    return AiAccount(
        endpoint=output["endpoint"].rstrip("/"),
        resource_id=output["id"],
        location=output["location"],
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
