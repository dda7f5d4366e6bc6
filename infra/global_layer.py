"""GlobalLayer: what every region shares, deployed once, before any region.

One registry replicated to every region, one Key Vault for every secret (whose values are set
outside Pulumi, so a deploy never writes one), one managed identity
per region already granted pull and read rights, one Front Door entry URL whose shared origin
group each region stack joins with its own dispatch service, and the region table that every
region's dispatch reads (so adding a region touches no other region's stack).
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import (
    authorization,
    cdn,
    cognitiveservices,
    containerregistry,
    keyvault,
    managedidentity,
    resources,
    storage,
)

from infra.azure_roles import (
    ACR_PULL,
    COGNITIVE_SERVICES_OPENAI_USER,
    COGNITIVE_SERVICES_SPEECH_USER,
    KEY_VAULT_SECRETS_USER,
    STORAGE_BLOB_DATA_READER,
    grant,
)
from infra.env import region_table
from infra.manifest import GlobalNames, Manifest, Region
from infra.naming import deployment_seed
from meridian.contract import WEBHOOK_PATH
from meridian.geo.regions import azure_regions

# The paths the shared route serves: the token endpoint (POST / or /token), health and the
# region table. /regions/<key>/* belongs to each region's own route.
ENTRY_PATHS = ["/", "/token", "/healthz", "/regions", WEBHOOK_PATH]
# Front Door answers from this last-resort origin only when no region is healthy, and its
# existence lets the route be created before the first region joins the origin group.
FALLBACK_PRIORITY = 5
REGION_PRIORITY = 1
FALLBACK_BODY = '{"error": "unavailable", "message": "no Meridian region is deployed and healthy; try again later"}'
FALLBACK_DOCUMENT = "unavailable.json"
# The published region table: a private container of the global storage account.
REGION_TABLE_CONTAINER = "meridian"
REGION_TABLE_BLOB = "regions.json"


def zone_redundancy(location: str) -> str:
    """Zone redundancy where the location has availability zones, else Disabled."""
    zones = azure_regions()[location].availability_zones or 0
    return "Enabled" if zones > 1 else "Disabled"


class GlobalLayer(pulumi.ComponentResource):
    """Registry with a replica per region, the Key Vault, per-region identities with
    their grants, the Front Door profile, endpoint, shared origin group and route, and the
    published region table."""

    def __init__(
        self,
        manifest: Manifest,
        names: GlobalNames,
        opts: pulumi.ResourceOptions | None = None,
        *,
        deleted_ai_accounts: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__("meridian:index:GlobalLayer", names.resource_group, None, opts)
        location = manifest.global_.location
        tags = {
            "meridian-scope": "global",
            "meridian-agent": manifest.agent.name,
            "managed-by": "meridian",
        }
        child = pulumi.ResourceOptions(parent=self)
        self.names = names
        client = authorization.get_client_config_output()
        # Pulumi names below are fixed words; only the Azure names of globally unique resources
        # carry the deployment seed (infra.manifest.names), so no manifest edit renames them.
        self.seed = deployment_seed(child)
        registry_name = self.seed.apply(names.registry)
        vault_name = self.seed.apply(names.vault)

        self.resource_group = resources.ResourceGroup(
            names.resource_group,
            resource_group_name=names.resource_group,
            location=location,
            tags=tags,
            opts=child,
        )
        rg = self.resource_group.name

        # --- one registry, a replica next to every region ------------------------------------
        self.registry = containerregistry.Registry(
            "registry",
            registry_name=registry_name,
            resource_group_name=rg,
            location=location,
            sku=containerregistry.SkuArgs(name="Premium"),
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            zone_redundancy=zone_redundancy(location),
            tags=tags,
            opts=child,
        )
        # The registry's home location is already a replica; Azure refuses a second one there.
        self.replications = {
            region.key: containerregistry.Replication(
                f"registry-{region.location}",
                replication_name=region.location,
                registry_name=self.registry.name,
                resource_group_name=rg,
                location=region.location,
                region_endpoint_enabled=True,
                zone_redundancy=zone_redundancy(region.location),
                tags=tags,
                opts=child,
            )
            for region in manifest.regions.values()
            if region.location != location
        }

        # --- the vault: its secrets are set outside Pulumi (README, 'Secrets') ------------------
        self.vault = keyvault.Vault(
            "vault",
            vault_name=vault_name,
            resource_group_name=rg,
            location=location,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=client.tenant_id,
                sku=keyvault.SkuArgs(family="A", name="standard"),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=90,
                enable_purge_protection=True,
            ),
            tags=tags,
            opts=child,
        )

        # --- one identity per region, granted before its region deploys -----------------------
        # Role assignments take minutes to propagate. Made here, they have propagated by the time
        # the region stack's first revision pulls its image and reads its secrets.
        self.identities: dict[str, managedidentity.UserAssignedIdentity] = {}
        for region in manifest.regions.values():
            identity_name = manifest.region_names(region.key, names.prefix).identity
            identity = managedidentity.UserAssignedIdentity(
                identity_name,
                resource_name_=identity_name,
                resource_group_name=rg,
                location=region.location,
                tags={**tags, "meridian-region": region.key},
                opts=child,
            )
            self.identities[region.key] = identity
            for role, scope, scope_name, suffix in (
                (ACR_PULL, self.registry.id, registry_name, "acrpull"),
                (KEY_VAULT_SECRETS_USER, self.vault.id, vault_name, "secrets"),
            ):
                grant(
                    f"{identity_name}-{suffix}",
                    role=role,
                    scope=scope,
                    scope_name=scope_name,
                    principal_id=identity.principal_id,
                    principal_name=identity_name,
                    subscription_id=client.subscription_id,
                    opts=child,
                )

        # --- one Azure AI Services account per region that provisions its models ------------------
        # Made here with the identities, so each region identity's roles on its account (and its
        # fallback's) have propagated long before the region's first call, like AcrPull above.
        # Each account's name (its custom subdomain, global across Azure) carries the seed, and
        # its Pulumi name is a fixed word per region, so neither changes after the first deploy.
        self.ai_accounts = {
            region.key: self._ai_account(
                region,
                self.seed.apply(lambda seed, key=region.key: names.ai_account(key, seed)),
                rg,
                tags,
                child,
                deleted_ai_accounts,
            )
            for region in manifest.regions.values()
            if region.ai is not None
        }
        for region in manifest.regions.values():
            if region.ai is None:
                continue
            identity = self.identities[region.key]
            identity_name = manifest.region_names(region.key, names.prefix).identity
            roles = []
            if "llm" in region.ai.stages:
                roles.append((COGNITIVE_SERVICES_OPENAI_USER, "openai"))
            if {"stt", "tts"} & set(region.ai.stages):
                roles.append((COGNITIVE_SERVICES_SPEECH_USER, "speech"))
            targets = [region.key, *([region.ai.fallback] if region.ai.fallback else [])]
            for target in targets:
                account = self.ai_accounts[target]
                for role, suffix in roles:
                    grant(
                        f"{identity_name}-{suffix}-{target}",
                        role=role,
                        scope=account.id,
                        scope_name=account.name,
                        principal_id=identity.principal_id,
                        principal_name=identity_name,
                        subscription_id=client.subscription_id,
                        opts=child,
                    )

        # --- one entry URL ----------------------------------------------------------------------
        self.front_door = cdn.Profile(
            names.front_door,
            profile_name=names.front_door,
            resource_group_name=rg,
            location="global",
            sku=cdn.SkuArgs(name="Standard_AzureFrontDoor"),
            origin_response_timeout_seconds=30,
            tags=tags,
            opts=child,
        )
        # The endpoint's host name is <name>-<hash>.z01.azurefd.net, and Azure reuses the hash for
        # the same name within a tenant: the seed keeps two deployments' host names apart.
        self.endpoint = cdn.AFDEndpoint(
            "endpoint",
            endpoint_name=self.seed.apply(names.endpoint),
            profile_name=self.front_door.name,
            resource_group_name=rg,
            location="global",
            enabled_state="Enabled",
            tags=tags,
            opts=child,
        )
        self.origin_group = cdn.AFDOriginGroup(
            f"{names.front_door}-{names.origin_group}",
            origin_group_name=names.origin_group,
            profile_name=self.front_door.name,
            resource_group_name=rg,
            **origin_group_settings(manifest),
            opts=child,
        )
        # One storage account serves the fallback answer (its static website) and the region
        # table (a private container).
        self.storage = storage.StorageAccount(
            "storage",
            account_name=self.seed.apply(names.storage),
            resource_group_name=rg,
            location=location,
            kind="StorageV2",
            sku=storage.SkuArgs(name="Standard_LRS"),
            allow_blob_public_access=False,
            minimum_tls_version="TLS1_2",
            enable_https_traffic_only=True,
            tags=tags,
            opts=child,
        )
        fallback = self._fallback_origin(names, rg, child)
        self.route = cdn.Route(
            f"endpoint-{names.route}",
            route_name=names.route,
            endpoint_name=self.endpoint.name,
            profile_name=self.front_door.name,
            resource_group_name=rg,
            origin_group=cdn.ResourceReferenceArgs(id=self.origin_group.id),
            patterns_to_match=ENTRY_PATHS,
            supported_protocols=["Http", "Https"],
            https_redirect="Enabled",
            forwarding_protocol="HttpsOnly",
            link_to_default_domain="Enabled",
            enabled_state="Enabled",
            # Azure creates a route only once its origin group has an enabled origin.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[fallback]),
        )
        self.url = pulumi.Output.concat("https://", self.endpoint.host_name)
        self.region_table_url = self._publish_region_table(
            manifest, rg, client.subscription_id, child
        )
        self.register_outputs({"globalUrl": self.url, "regionTableUrl": self.region_table_url})

    def _ai_account(
        self,
        region: Region,
        name: pulumi.Output[str],
        rg: pulumi.Output[str],
        tags: dict[str, str],
        child: pulumi.ResourceOptions,
        deleted: frozenset[str],
    ) -> cognitiveservices.Account:
        """The region's account: custom subdomain (needed for Entra tokens), keys disabled, and
        restored instead of created when a deleted one still holds the name (48 h: the seed is
        new after a destroy, but a region dropped and added again within the stack keeps it)."""
        return cognitiveservices.Account(
            f"ai-{region.key}",
            account_name=name,
            resource_group_name=rg,
            location=region.location,
            kind="AIServices",
            sku=cognitiveservices.SkuArgs(name="S0"),
            properties=name.apply(
                lambda subdomain: cognitiveservices.AccountPropertiesArgs(
                    custom_sub_domain_name=subdomain,
                    disable_local_auth=True,
                    public_network_access="Enabled",
                    restore=True if subdomain in deleted else None,
                )
            ),
            tags={**tags, "meridian-region": region.key},
            opts=child,
        )

    def _publish_region_table(
        self,
        manifest: Manifest,
        rg: pulumi.Output[str],
        subscription_id: pulumi.Output[str],
        child: pulumi.ResourceOptions,
    ) -> pulumi.Output[str]:
        """Every region, as dispatch routes by it, in a private blob that each region's identity
        may read (its URL is returned): dispatch refreshes its table from it, so a new region
        changes the global stack and its own, no other."""
        container = storage.BlobContainer(
            "storage-meridian",
            container_name=REGION_TABLE_CONTAINER,
            account_name=self.storage.name,
            resource_group_name=rg,
            public_access="None",
            opts=child,
        )
        table = self.url.apply(lambda url: pulumi.StringAsset(region_table(manifest, url)))
        # A new table replaces the blob (azure-native deletes it first, as it has a fixed name):
        # a dispatch that reads in that moment gets a 404 and keeps the table it has.
        storage.Blob(
            f"storage-{REGION_TABLE_BLOB}",
            blob_name=REGION_TABLE_BLOB,
            account_name=self.storage.name,
            container_name=container.name,
            resource_group_name=rg,
            content_type="application/json",
            source=table,
            opts=child,
        )
        scope_name = pulumi.Output.concat(self.storage.name, f"/{REGION_TABLE_CONTAINER}")
        for key, identity in self.identities.items():
            identity_name = manifest.region_names(key, self.names.prefix).identity
            grant(
                f"{identity_name}-regions",
                role=STORAGE_BLOB_DATA_READER,
                scope=container.id,
                scope_name=scope_name,
                principal_id=identity.principal_id,
                principal_name=identity_name,
                subscription_id=subscription_id,
                opts=child,
            )
        return pulumi.Output.concat(
            self.storage.primary_endpoints.apply(lambda e: (e.blob or "").rstrip("/")),
            f"/{REGION_TABLE_CONTAINER}/{REGION_TABLE_BLOB}",
        )

    def _fallback_origin(
        self, names: GlobalNames, rg: pulumi.Output[str], child: pulumi.ResourceOptions
    ) -> cdn.AFDOrigin:
        """The last-resort origin: the storage account's static website answering a JSON 404."""
        account = self.storage
        website = storage.StorageAccountStaticWebsite(
            "storage-website",
            account_name=account.name,
            resource_group_name=rg,
            error404_document=FALLBACK_DOCUMENT,
            opts=child,
        )
        storage.Blob(
            f"storage-{FALLBACK_DOCUMENT}",
            blob_name=FALLBACK_DOCUMENT,
            account_name=account.name,
            container_name=website.container_name,
            resource_group_name=rg,
            content_type="application/json",
            source=pulumi.StringAsset(FALLBACK_BODY),
            opts=child,
        )
        web_host = account.primary_endpoints.apply(
            lambda e: (e.web or "").removeprefix("https://").rstrip("/")
        )
        return cdn.AFDOrigin(
            f"{names.front_door}-{names.fallback_origin}",
            origin_name=names.fallback_origin,
            origin_group_name=self.origin_group.name,
            profile_name=self.front_door.name,
            resource_group_name=rg,
            host_name=web_host,
            origin_host_header=web_host,
            http_port=80,
            https_port=443,
            priority=FALLBACK_PRIORITY,
            weight=1000,
            enabled_state="Enabled",
            enforce_certificate_name_check=True,
            opts=child,
        )


def origin_group_settings(manifest: Manifest) -> dict[str, object]:
    """Health probe and latency settings of every Meridian origin group, from `global.front_door`."""
    probe = manifest.global_.front_door
    return {
        "health_probe_settings": cdn.HealthProbeParametersArgs(
            probe_path="/healthz",
            probe_protocol="Https",
            probe_request_type="GET",
            probe_interval_in_seconds=probe.interval_seconds,
        ),
        "load_balancing_settings": cdn.LoadBalancingSettingsParametersArgs(
            sample_size=probe.sample_size,
            successful_samples_required=probe.successful_samples_required,
            additional_latency_in_milliseconds=probe.additional_latency_ms,
        ),
        "session_affinity_state": "Disabled",
    }
