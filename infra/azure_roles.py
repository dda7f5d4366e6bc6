"""Azure built-in roles Meridian grants, and role assignments with stable names."""

from __future__ import annotations

import uuid

import pulumi
from pulumi_azure_native import authorization

# Built-in role IDs (the same in every tenant).
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"  # pull images, nothing else
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"  # read secret values
# Call model deployments and Speech with an Entra token, nothing else. Never Cognitive Services
# User (a86…): it can also list the account's keys.
COGNITIVE_SERVICES_OPENAI_USER = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"
COGNITIVE_SERVICES_SPEECH_USER = "f2dc8367-1007-4938-bd23-fe263f013447"


def grant(
    name: str,
    *,
    role: str,
    scope: pulumi.Input[str],
    scope_name: str,
    principal_id: pulumi.Input[str],
    principal_name: str,
    subscription_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> authorization.RoleAssignment:
    """Give a managed identity one role on one resource; the assignment's GUID is derived from the
    names, so a redeploy finds the same assignment instead of adding another."""
    return authorization.RoleAssignment(
        name,
        role_assignment_name=str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"{scope_name}/{principal_name}/{role}")
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
