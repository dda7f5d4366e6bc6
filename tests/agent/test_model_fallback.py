"""Each provisioned model falls back to the fallback region's deployment on throttling (429) and on
timeouts: the real openai plugin against two loopback "accounts", through livekit-agents'
FallbackAdapter as build_models wires it; the turn's metadata then names the fallback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from livekit.agents import llm

from agent.providers import FallbackSettings, Models, build_models
from agent.settings import AiAccount, AzureAiSettings, load_settings
from tests.agent.azure_doubles import RESOURCE_ID, ChatServer, ShortLivedCredential, serve
from tests.agent.support import base_env

ROUTE = "/openai/deployments/{deployment}/chat/completions"


def _settings(primary: str, fallback: str):  # type: ignore[no-untyped-def]
    env = base_env(
        MERIDIAN_LLM_PROVIDER="azure-ai",
        MERIDIAN_LLM_MODEL="gpt-5.4-mini",
        MERIDIAN_AI_ENDPOINT="https://placeholder.cognitiveservices.azure.com",
        MERIDIAN_AI_RESOURCE_ID=RESOURCE_ID,
    )
    settings = load_settings(env)
    # loopback servers speak plain http; the settings only take https, so set them directly
    return replace(
        settings,
        ai=AzureAiSettings(
            account=AiAccount(primary, RESOURCE_ID, "westeurope"),
            client_id="id-client",
            fallback=AiAccount(fallback, RESOURCE_ID, "eastus"),
            fallback_llm="gpt-5.4-mini",
        ),
    )


@pytest.fixture
async def accounts() -> AsyncIterator[tuple[ChatServer, ChatServer, Models]]:
    primary, fallback = ChatServer("In region."), ChatServer("From the fallback.")
    runners = []
    urls = []
    for server in (primary, fallback):
        runner, url = await serve(server.handle, ROUTE)
        runners.append(runner)
        urls.append(url)
    credential = ShortLivedCredential(lifetime=3600)
    models = build_models(
        _settings(*urls), credential=credential, fallback=FallbackSettings(llm_attempt_timeout=0.5)
    )
    yield primary, fallback, models
    await models.llm.aclose()
    await models.aclose()
    for runner in runners:
        await runner.cleanup()


async def _reply(model: llm.LLM) -> str:
    chat = llm.ChatContext.empty()
    chat.add_message(role="user", content="When does my order ship?")
    async with model.chat(chat_ctx=chat) as stream:
        return "".join([c.delta.content or "" async for c in stream if c.delta])


async def test_the_primary_serves_when_it_answers(accounts) -> None:  # type: ignore[no-untyped-def]
    primary, fallback, models = accounts
    assert isinstance(models.llm, llm.FallbackAdapter)
    assert await _reply(models.llm) == "In region."
    assert fallback.requests == 0
    served = models.placements.resolve("llm", models.llm.metrics_metadata)
    assert served is not None and (served.provider, served.location) == ("azure-ai", "westeurope")
    assert primary.bearer == ["Bearer entra-token-1"]


async def test_throttling_falls_back_to_the_other_regions_deployment(accounts) -> None:  # type: ignore[no-untyped-def]
    primary, fallback, models = accounts
    primary.status = 429
    assert await _reply(models.llm) == "From the fallback."
    # the primary also gets the adapter's recovery probe, in the background
    assert fallback.requests == 1 and primary.requests >= 1
    served = models.placements.resolve("llm", models.llm.metrics_metadata)
    assert served is not None
    assert (served.provider, served.deployment, served.location) == (
        "azure-ai",
        "gpt-5.4-mini",
        "eastus",
    )


async def test_a_primary_that_never_answers_falls_back_after_the_attempt_timeout(accounts) -> None:  # type: ignore[no-untyped-def]
    primary, fallback, models = accounts
    primary.hang = True
    assert await _reply(models.llm) == "From the fallback."
    assert fallback.requests == 1
    served = models.placements.resolve("llm", models.llm.metrics_metadata)
    assert served is not None and served.location == "eastus"


async def test_no_fallback_account_means_no_adapter() -> None:
    env = base_env(
        MERIDIAN_LLM_PROVIDER="azure-ai",
        MERIDIAN_LLM_MODEL="gpt-5.4-mini",
        MERIDIAN_AI_ENDPOINT="https://ai-x.cognitiveservices.azure.com",
        MERIDIAN_AI_RESOURCE_ID=RESOURCE_ID,
    )
    models = build_models(load_settings(env), credential=ShortLivedCredential(lifetime=3600))
    assert not isinstance(models.llm, llm.FallbackAdapter)
    await models.aclose()
