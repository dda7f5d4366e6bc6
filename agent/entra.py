"""Entra tokens for the region identity: one cache per session, refreshed before each token
expires, shared by the LLM (a bearer token provider) and Azure Speech (`aad#<resource>#<token>`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from azure.core.credentials import AccessToken
from azure.core.credentials_async import AsyncTokenCredential

# Azure OpenAI and Speech accept tokens for the Cognitive Services resource.
COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"
# Refresh this long before expiry, or after 80% of a token's life when it lives less than that.
REFRESH_MARGIN_SECONDS = 300.0
_SHORT_LIFE_SHARE = 0.2


def region_credential(client_id: str | None) -> AsyncTokenCredential:
    """The region identity in Azure (managed identity, AZURE_CLIENT_ID), or a developer's
    `az login` on a laptop: azure-identity's default chain, without interactive prompts."""
    from azure.identity.aio import DefaultAzureCredential

    return DefaultAzureCredential(managed_identity_client_id=client_id)


def speech_authorization(resource_id: str, token: str) -> str:
    """The authorization token Azure Speech takes for an Entra token on a custom-subdomain
    resource (Speech SDK auth_token, or REST `Authorization: Bearer <this>`)."""
    return f"aad#{resource_id}#{token}"


class EntraTokens:
    """A token for one scope, fetched when first needed and again once it nears its expiry."""

    def __init__(
        self,
        credential: AsyncTokenCredential,
        *,
        scope: str = COGNITIVE_SERVICES_SCOPE,
        margin: float = REFRESH_MARGIN_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._credential = credential
        self._scope = scope
        self._margin = margin
        self._clock = clock
        self._token: AccessToken | None = None
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()

    @property
    def refresh_at(self) -> float:
        """When (clock seconds) the current token is due for replacement; 0 before the first."""
        return self._refresh_at

    async def token(self) -> str:
        """A token that is not about to expire."""
        if self._token is None or self._clock() >= self._refresh_at:
            async with self._lock:
                if self._token is None or self._clock() >= self._refresh_at:
                    now = self._clock()
                    token = await self._credential.get_token(self._scope)
                    life = max(0.0, token.expires_on - now)
                    self._refresh_at = token.expires_on - min(
                        self._margin, life * _SHORT_LIFE_SHARE
                    )
                    self._token = token
        assert self._token is not None
        return self._token.token

    async def until_refresh(self) -> None:
        """Return when the current token is due for replacement."""
        await asyncio.sleep(max(0.0, self._refresh_at - self._clock()))

    async def aclose(self) -> None:
        """Close the credential (its HTTP session)."""
        await self._credential.close()
