"""Azure Speech STT and TTS called with Entra tokens that are renewed during a call.

livekit-plugins-azure (1.8.9) takes one fixed `speech_auth_token`: the STT builds each Speech SDK
recognizer from its stream's options, and the TTS copies its options into every request. These
subclasses keep the plugins as they are and put a fresh token where they read it: before each
TTS request, and for STT at the start of each stream, in each new recognizer, and on the running
recognizer (`authorization_token`, which the SDK asks callers to renew) before the token expires,
so a call that outlives a token keeps recognising. They rely on the plugin's `SpeechStream._opts`
and `._recognizer` and `ChunkedStream._opts`; tests/agent/test_azure_speech.py checks them
against the installed plugin.
"""

from __future__ import annotations

import asyncio
import contextlib
from copy import deepcopy

import aiohttp
from livekit.agents import APIConnectOptions, LanguageCode, tts
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr
from livekit.agents.utils import aio, is_given
from livekit.plugins import azure
from livekit.plugins.azure import stt as azure_stt
from livekit.plugins.azure import tts as azure_tts

from agent.entra import EntraTokens, speech_authorization

# The plugins' constructors only check that a token is given; the real one is set per stream
# and per request, before anything connects.
_FETCHED_ON_USE = "aad#fetched-on-use"


class _Authorizer:
    def __init__(self, tokens: EntraTokens, resource_id: str) -> None:
        self.tokens = tokens
        self.resource_id = resource_id

    async def __call__(self) -> str:
        return speech_authorization(self.resource_id, await self.tokens.token())


class EntraSTT(azure.STT):
    """Azure Speech real-time STT in `location`, authorised as the region identity."""

    def __init__(
        self,
        *,
        tokens: EntraTokens,
        resource_id: str,
        location: str,
        language: str | None = None,
    ) -> None:
        super().__init__(
            speech_auth_token=_FETCHED_ON_USE,
            speech_region=location,
            language=language or NOT_GIVEN,
        )
        self.authorization = _Authorizer(tokens, resource_id)
        self._location = location

    @property
    def model(self) -> str:
        """Names the Speech resource's location, so fallbacks tell their instances apart."""
        return f"speech@{self._location}"

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> azure_stt.SpeechStream:
        # as azure.STT.stream, with the stream that renews its token
        config = deepcopy(self._config)
        if is_given(language):
            config.language = [LanguageCode(language)]
        stream = _EntraSpeechStream(stt=self, opts=config, conn_options=conn_options)
        self._streams.add(stream)
        return stream


class _EntraSpeechStream(azure_stt.SpeechStream):
    async def _run(self) -> None:
        owner = self._stt
        assert isinstance(owner, EntraSTT)
        self._opts.speech_auth_token = await owner.authorization()
        renew = asyncio.create_task(self._renew(owner.authorization))
        try:
            await super()._run()
        finally:
            await aio.cancel_and_wait(renew)

    async def _renew(self, authorization: _Authorizer) -> None:
        while True:
            await authorization.tokens.until_refresh()
            token = await authorization()
            # the next recognizer (after a reconnect) is built from the options
            self._opts.speech_auth_token = token
            recognizer = getattr(self, "_recognizer", None)
            if recognizer is not None:
                with contextlib.suppress(RuntimeError):  # torn down in between
                    recognizer.authorization_token = token


class EntraTTS(azure.TTS):
    """Azure Speech neural TTS in `location`, authorised as the region identity. `endpoint`
    replaces the regional REST endpoint (e.g. a private one); `http_session` the job's."""

    def __init__(
        self,
        *,
        tokens: EntraTokens,
        resource_id: str,
        location: str,
        voice: str,
        language: str | None = None,
        endpoint: str | None = None,
        http_session: aiohttp.ClientSession | None = None,
    ) -> None:
        super().__init__(
            voice=voice,
            language=language,
            speech_auth_token=_FETCHED_ON_USE,
            speech_region=location,
            speech_endpoint=endpoint,
            http_session=http_session,
        )
        self.authorization = _Authorizer(tokens, resource_id)

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        return _EntraChunkedStream(tts=self, input_text=text, conn_options=conn_options)


class _EntraChunkedStream(azure_tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        owner = self._tts
        assert isinstance(owner, EntraTTS)
        self._opts.auth_token = await owner.authorization()
        await super()._run(output_emitter)
