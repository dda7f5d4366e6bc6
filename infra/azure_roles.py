"""Azure built-in roles Meridian grants, and role assignments with stable names."""

from __future__ import annotations

import uuid

import pulumi
from pulumi_azure_native import authorization

# Built-in role IDs (the same in every tenant).
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"  # pull images, nothing else
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"  # read secret values
STORAGE_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"  # read blobs, nothing else
# Call model deployments and Speech with an Entra token, nothing else. Never Cognitive Services
# User (a86…): it can also list the account's keys.
COGNITIVE_SERVICES_OPENAI_USER = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"
COGNITIVE_SERVICES_SPEECH_USER = "f2dc8367-1007-4938-bd23-fe263f013447"


def grant(
    name: str,
    *,
    role: str,
    scope: pulumi.Input[str],
    scope_name: pulumi.Input[str],
    principal_id: pulumi.Input[str],
    principal_name: str,
    subscription_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> authorization.RoleAssignment:
    """Give a managed identity one role on one resource; the assignment's GUID is derived from the
    names (the scope's is globally unique), so a redeploy finds the same assignment instead of
    adding another, and two deployments in one tenant never pick the same GUID."""
    return authorization.RoleAssignment(
        name,
        role_assignment_name=pulumi.Output.from_input(scope_name).apply(
            lambda scope_text: str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"{scope_text}/{principal_name}/{role}")
            )
        ),
        principal_id=principal_id,
        principal_type="ServicePrincipal",
        role_definition_id=pulumi.Output.concat(
            "/subscriptions/",
            subscription_id,
            "/providers/Microsoft.Authorization/roleDefinitions/",
            role,
        ),
        scope=scope,
        opts=opts,
    )
