"""Which Azure AI Services accounts are soft-deleted: a deleted account keeps its name and custom
subdomain for 48 hours, and creating it again in that time fails unless the create restores it.

The global stack asks Azure Resource Manager once per deploy (the subscription's deleted
accounts) with the deploying identity, and restores the accounts it would create under a name
that is still reserved."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable

ARM = "https://management.azure.com"
API_VERSION = "2024-10-01"


class SoftDeleteLookupError(Exception):
    """The deleted accounts could not be listed; the message says why."""


def _arm_token() -> str:
    from azure.identity import DefaultAzureCredential

    with DefaultAzureCredential(exclude_interactive_browser_credential=True) as credential:
        return credential.get_token(f"{ARM}/.default").token


def soft_deleted_accounts(
    subscription_id: str,
    *,
    token: Callable[[], str] = _arm_token,
    timeout: float = 20.0,
) -> frozenset[str]:
    """Names of the subscription's soft-deleted Cognitive Services accounts (every location)."""
    url = (
        f"{ARM}/subscriptions/{subscription_id}/providers/Microsoft.CognitiveServices"
        f"/deletedAccounts?api-version={API_VERSION}"
    )
    names: set[str] = set()
    try:
        bearer = token()
        while url:
            request = urllib.request.Request(url, headers={"Authorization": f"Bearer {bearer}"})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                page = json.load(response)
            names.update(item["name"] for item in page.get("value", []) if "name" in item)
            url = page.get("nextLink") or ""
            if url and not url.startswith(f"{ARM}/"):
                raise SoftDeleteLookupError(f"unexpected nextLink host in {url[:80]!r}")
    except SoftDeleteLookupError:
        raise
    except urllib.error.HTTPError as exc:
        raise SoftDeleteLookupError(f"Azure answered {exc.code} listing deleted accounts") from None
    except Exception as exc:  # credentials missing, network down, malformed answer
        raise SoftDeleteLookupError(f"{type(exc).__name__}: {exc}") from None
    return frozenset(names)
