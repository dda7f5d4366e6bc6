"""The deployment seed, and globally unique Azure names made from it (the rules are in
`infra.manifest.names`).

A stack that creates globally unique resources calls `deployment_seed` once and passes its output
to `unique_name` for each of them, e.g. an AI Services account's custom subdomain:

    seed = deployment_seed(pulumi.ResourceOptions(parent=self))
    subdomain = unique_name(f"ai-{agent}-{region}", seed, AI_SERVICES_SUBDOMAIN)

The seed is a `random.RandomId` in the stack's state: drawn at the first deploy, never redrawn
(it has no inputs that could change), and gone with `pulumi destroy`, so a later deploy gets new
names instead of colliding with soft-deleted ones (Key Vault keeps a purge-protected vault's
name for 90 days, AI Services a custom subdomain for 48 hours).
"""

from __future__ import annotations

import pulumi
import pulumi_random as random

from infra.manifest.names import SEED_BYTES, AzureNameRule, unique_azure_name

SEED_RESOURCE = "name-seed"


def deployment_seed(opts: pulumi.ResourceOptions | None = None) -> pulumi.Output[str]:
    """This stack's seed: 8 lowercase hex characters, stable for the life of the stack."""
    return random.RandomId(SEED_RESOURCE, byte_length=SEED_BYTES, opts=opts).hex


def unique_name(base: str, seed: pulumi.Output[str], rule: AzureNameRule) -> pulumi.Output[str]:
    """A globally unique Azure name for this deployment: `base` cut to fit `rule`, then the seed."""
    return seed.apply(lambda value: unique_azure_name(base, value, rule))
