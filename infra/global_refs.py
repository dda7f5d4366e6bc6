"""The global stack's outputs: their names, written once, and the typed view a region stack reads
through a StackReference."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi


class GlobalOutput:
    """Output names of the global stack, which region stacks and scripts read."""

    RESOURCE_GROUP = "resourceGroup"
    REGISTRY_LOGIN_SERVER = "registryLoginServer"
    REGISTRY_ID = "registryId"
    KEY_VAULT_URI = "keyVaultUri"
    KEY_VAULT_NAME = "keyVaultName"
    KEY_VAULT_ID = "keyVaultId"
    # The names of the secrets the vault must hold for the regions of the manifest.
    REQUIRED_SECRETS = "requiredSecrets"
    FRONT_DOOR_ID = "frontDoorId"
    FRONT_DOOR_PROFILE = "frontDoorProfile"
    FRONT_DOOR_ENDPOINT = "frontDoorEndpoint"
    ORIGIN_GROUP = "originGroup"
    GLOBAL_URL = "globalUrl"
    # Where the whole region table is published, for every region's dispatch to read.
    REGION_TABLE_URL = "regionTableUrl"
    # {region key: {"id", "clientId", "principalId"}} of each region's managed identity.
    IDENTITIES = "identities"
    # {region key: {"name", "id", "endpoint", "location"}} of each provisioned AI account.
    AI_ACCOUNTS = "aiAccounts"


@dataclass(frozen=True)
class GlobalRefs:
    """What one region stack takes from the global stack."""

    stack: str
    resource_group: pulumi.Output[str]
    registry_login_server: pulumi.Output[str]
    key_vault_uri: pulumi.Output[str]
    front_door_id: pulumi.Output[str]
    front_door_profile: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    origin_group: pulumi.Output[str]
    global_url: pulumi.Output[str]
    region_table_url: pulumi.Output[str]
    identity_id: pulumi.Output[str]
    identity_client_id: pulumi.Output[str]
    # Every provisioned region's AI account (a region falls back to another's).
    ai_accounts: pulumi.Output[dict[str, dict[str, str]]]

    @classmethod
    def read(cls, stack: str, region: str) -> GlobalRefs:
        """Reference the global stack `stack` and pick out what region `region` needs."""
        ref = pulumi.StackReference(f"global-ref-{region}", stack_name=stack)

        def identity(field: str) -> pulumi.Output[str]:
            return ref.require_output(GlobalOutput.IDENTITIES).apply(
                lambda ids: _identity_field(ids, stack, region, field)
            )

        def out(name: str) -> pulumi.Output[str]:
            return ref.require_output(name)  # type: ignore[return-value]

        return cls(
            stack=stack,
            resource_group=out(GlobalOutput.RESOURCE_GROUP),
            registry_login_server=out(GlobalOutput.REGISTRY_LOGIN_SERVER),
            key_vault_uri=out(GlobalOutput.KEY_VAULT_URI),
            front_door_id=out(GlobalOutput.FRONT_DOOR_ID),
            front_door_profile=out(GlobalOutput.FRONT_DOOR_PROFILE),
            endpoint=out(GlobalOutput.FRONT_DOOR_ENDPOINT),
            origin_group=out(GlobalOutput.ORIGIN_GROUP),
            global_url=out(GlobalOutput.GLOBAL_URL),
            region_table_url=out(GlobalOutput.REGION_TABLE_URL),
            identity_id=identity("id"),
            identity_client_id=identity("clientId"),
            ai_accounts=ref.get_output(GlobalOutput.AI_ACCOUNTS).apply(lambda a: a or {}),
        )

    def ai_account(self, region: str) -> pulumi.Output[dict[str, str]]:
        """One region's AI account, or a RunError saying the global stack must be updated."""
        return self.ai_accounts.apply(lambda accounts: _ai_account(accounts, self.stack, region))

    def secret_url(self, secret_name: str) -> pulumi.Output[str]:
        """The Key Vault reference of one secret, without a version so a restart picks up the latest."""
        return self.key_vault_uri.apply(lambda uri: f"{uri.rstrip('/')}/secrets/{secret_name}")


def _identity_field(identities: Any, stack: str, region: str, field: str) -> str:
    if not isinstance(identities, dict) or region not in identities:
        # Raised while the program runs, so `pulumi up` prints it without a traceback.
        raise pulumi.RunError(
            f"the global stack {stack!r} has no identity for region {region!r}: adding a region"
            f" starts with `pulumi up -s {stack}` (it adds the region's identity, registry replica"
            " and grants), then the region's own stack"
        )
    return str(identities[region][field])


def _ai_account(accounts: Any, stack: str, region: str) -> dict[str, str]:
    if not isinstance(accounts, dict) or region not in accounts:
        raise pulumi.RunError(
            f"the global stack {stack!r} has no Azure AI account for region {region!r}: after"
            f" adding models.provision, run `pulumi up -s {stack}` first (it creates the account"
            " and its role assignments), then the region's own stack"
        )
    return {k: str(v) for k, v in accounts[region].items()}
