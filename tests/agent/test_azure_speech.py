"""Azure Speech, keyless: the installed plugins' STT and TTS get a fresh `aad#<resource>#<token>`
before every token expires, so a call longer than a token's life keeps working. Tokens here live
1.5 s and a call lasts about 5 s, so each call needs several."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import numpy as np
import pytest
from azure.cognitiveservices import speech as speechsdk
from livekit import rtc
from livekit.plugins.azure import stt as azure_stt

from agent.azure_speech import EntraSTT, EntraTTS
from agent.entra import COGNITIVE_SERVICES_SCOPE, EntraTokens
from tests.agent.azure_doubles import (
    RESOURCE_ID,
    FakePushStream,
    FakeRecognizer,
    ShortLivedCredential,
    SpeechTtsServer,
    entra_token,
    serve,
)

LIFETIME = 1.5
CALL_SECONDS = 5.0
FRAME = rtc.AudioFrame(np.zeros(320, dtype=np.int16).tobytes(), 16000, 1, 320)


@pytest.fixture
def recognizers(monkeypatch: pytest.MonkeyPatch) -> list[FakeRecognizer]:
    """Every Speech SDK recognizer the plugin creates (no Speech service is reachable here)."""
    created: list[FakeRecognizer] = []

    def create(*, config: azure_stt.STTOptions, stream: FakePushStream) -> FakeRecognizer:
        recognizer = FakeRecognizer(created_token=str(config.speech_auth_token), stream=stream)
        created.append(recognizer)
        return recognizer

    monkeypatch.setattr(azure_stt, "_create_speech_recognizer", create)
    monkeypatch.setattr(speechsdk.audio, "PushAudioInputStream", FakePushStream)
    return created


async def _call(stream: azure_stt.SpeechStream, seconds: float, reconnect_at: float) -> None:
    """Audio at real time for `seconds`, with a reconnect (as after a dropped connection) midway."""
    start = time.monotonic()
    reconnected = False
    while (elapsed := time.monotonic() - start) < seconds:
        stream.push_frame(FRAME)
        if not reconnected and elapsed >= reconnect_at:
            stream.update_options(language=["en-US"])
            reconnected = True
        await asyncio.sleep(0.02)
    stream.end_input()


def _covered(
    credential: ShortLivedCredential, tokens: list[tuple[float, str]], until: float
) -> None:
    """Each token was valid when set, and replaced (or still valid) before it expired."""
    for (at, token), (next_at, _) in zip(tokens, [*tokens[1:], (until, "")], strict=True):
        assert credential.valid(entra_token(token), at), f"{token} was already expired when set"
        assert next_at < credential.expiry[entra_token(token)], f"{token} expired before renewal"


async def test_a_long_call_keeps_recognising_across_token_lifetimes(
    recognizers: list[FakeRecognizer],
) -> None:
    credential = ShortLivedCredential(LIFETIME)
    stt = EntraSTT(
        tokens=EntraTokens(credential),
        resource_id=RESOURCE_ID,
        location="westeurope",
        language="en-US",
    )
    stream = stt.stream()

    async def drain() -> None:
        async for _ in stream:
            pass

    await asyncio.gather(_call(stream, CALL_SECONDS, reconnect_at=CALL_SECONDS / 2), drain())
    ended = time.time()
    assert len(recognizers) == 2, "the reconnect builds a second recognizer"
    for recognizer in recognizers:
        _covered(
            credential,
            recognizer.tokens,
            until=ended if recognizer is recognizers[-1] else recognizer.tokens[-1][0],
        )
        assert recognizer.stream.bytes_written > 0
    assert len(credential.expiry) >= CALL_SECONDS // LIFETIME + 1
    assert credential.scopes[0] == COGNITIVE_SERVICES_SCOPE


async def test_the_second_recognizer_starts_with_a_token_issued_after_the_first(
    recognizers: list[FakeRecognizer],
) -> None:
    credential = ShortLivedCredential(LIFETIME)
    stt = EntraSTT(tokens=EntraTokens(credential), resource_id=RESOURCE_ID, location="eastus")
    stream = stt.stream()

    async def drain() -> None:
        async for _ in stream:
            pass

    await asyncio.gather(_call(stream, 2.5, reconnect_at=2.0), drain())
    first, second = recognizers
    assert second.created_token != first.created_token
    assert credential.valid(entra_token(second.created_token), second.tokens[0][0])
    assert stt.model == "speech@eastus"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_tts_requests_through_a_long_call_all_carry_a_valid_token(
    http: aiohttp.ClientSession,
) -> None:
    credential = ShortLivedCredential(LIFETIME)
    server = SpeechTtsServer(credential)
    runner, url = await serve(server.handle, "/cognitiveservices/v1")
    try:
        tts = EntraTTS(
            tokens=EntraTokens(credential),
            resource_id=RESOURCE_ID,
            location="westeurope",
            voice="en-US-AvaMultilingualNeural",
            endpoint=f"{url}/cognitiveservices/v1",
            http_session=http,
        )
        start = time.monotonic()
        replies = 0
        while time.monotonic() - start < CALL_SECONDS:
            async with tts.synthesize("Your order ships tomorrow.") as stream:
                frames = [event.frame async for event in stream]
            assert frames, "each reply is spoken"
            replies += 1
            await asyncio.sleep(0.4)  # the caller's turn
    finally:
        await runner.cleanup()
    assert replies >= 8
    assert len(set(server.seen)) >= CALL_SECONDS // LIFETIME + 1
