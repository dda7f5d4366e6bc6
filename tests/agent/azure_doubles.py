"""Stand-ins for what Azure provides around the real plugins: an Entra credential that issues
short-lived tokens, the Speech SDK's recognizer and push stream (no Speech service here), and
loopback HTTP servers for Speech TTS and Azure OpenAI chat completions."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from azure.core.credentials import AccessToken

RESOURCE_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-support-agent-global"
    "/providers/Microsoft.CognitiveServices/accounts/ai-supportagent-eu-west-c3f00e59"
)


class ShortLivedCredential:
    """An async Entra credential whose tokens live `lifetime` seconds; it knows which it issued."""

    def __init__(self, lifetime: float) -> None:
        self.lifetime = lifetime
        self.expiry: dict[str, float] = {}
        self.scopes: list[str] = []
        self.closed = False

    async def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        self.scopes.extend(scopes)
        token = f"entra-token-{len(self.expiry) + 1}"
        expires = time.time() + self.lifetime
        self.expiry[token] = expires
        return AccessToken(token, expires)  # type: ignore[arg-type]  # float: sub-second lives

    def valid(self, token: str, at: float | None = None) -> bool:
        """Whether `token` was issued here and has not expired at `at` (default now)."""
        return token in self.expiry and (time.time() if at is None else at) < self.expiry[token]

    async def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> ShortLivedCredential:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


def entra_token(speech_token: str) -> str:
    """The Entra token inside Speech's `aad#<resource id>#<token>`."""
    prefix, resource, token = speech_token.split("#", 2)
    assert (prefix, resource) == ("aad", RESOURCE_ID), speech_token
    return token


# --- Speech SDK -------------------------------------------------------------------------------


class _Signal:
    def __init__(self) -> None:
        self.callbacks: list[Callable[[Any], None]] = []

    def connect(self, callback: Callable[[Any], None]) -> None:
        self.callbacks.append(callback)

    def fire(self) -> None:
        for callback in self.callbacks:
            callback(None)


@dataclass
class FakeRecognizer:
    """The SDK recognizer as the plugin drives it; records every token it is given, and when."""

    created_token: str
    stream: FakePushStream
    tokens: list[tuple[float, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tokens.append((time.time(), self.created_token))
        for name in (
            "recognizing",
            "recognized",
            "speech_start_detected",
            "speech_end_detected",
            "session_started",
            "session_stopped",
            "canceled",
        ):
            setattr(self, name, _Signal())
        self.stream.recognizer = self

    @property
    def authorization_token(self) -> str:
        return self.tokens[-1][1]

    @authorization_token.setter
    def authorization_token(self, token: str) -> None:
        self.tokens.append((time.time(), token))

    def start_continuous_recognition(self) -> None:
        self.session_started.fire()  # type: ignore[attr-defined]

    def stop_continuous_recognition(self) -> None:
        pass


class FakePushStream:
    """The SDK's push stream: counts audio; closing it ends the recognizer's session."""

    def __init__(self, *_: Any, **__: Any) -> None:
        self.recognizer: FakeRecognizer | None = None
        self.bytes_written = 0

    def write(self, data: bytes) -> None:
        self.bytes_written += len(data)

    def close(self) -> None:
        if self.recognizer is not None:
            self.recognizer.session_stopped.fire()  # type: ignore[attr-defined]


# --- loopback servers -------------------------------------------------------------------------


@dataclass
class SpeechTtsServer:
    """Speech's TTS REST endpoint: 200 with PCM for a valid `Bearer aad#…` token, else 401."""

    credential: ShortLivedCredential
    status: int = 200
    seen: list[str] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        token = entra_token(header.removeprefix("Bearer "))
        self.seen.append(token)
        if self.status != 200:
            return web.Response(status=self.status, text="throttled")
        if not self.credential.valid(token):
            return web.Response(status=401, text="token expired")
        await request.text()
        return web.Response(body=b"\x00\x00" * 2400, content_type="audio/pcm")


@dataclass
class ChatServer:
    """An Azure OpenAI deployment's chat completions: streams `reply`, answers `status`, or
    never answers (`hang`)."""

    reply: str
    status: int = 200
    hang: bool = False
    bearer: list[str] = field(default_factory=list)
    requests: int = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        self.bearer.append(request.headers.get("Authorization", ""))
        if self.hang:
            await asyncio.Event().wait()
        if self.status != 200:
            body = {"error": {"code": "429", "message": "Requests have exceeded the rate limit"}}
            return web.json_response(body, status=self.status, headers={"retry-after": "1"})
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for i, word in enumerate(self.reply.split(" ")):
            chunk = {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": "gpt-5.4-mini",
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": ("" if i == 0 else " ") + word},
                        "finish_reason": None,
                    }
                ],
            }
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        return response


async def serve(handler: Callable[[web.Request], Any], path: str) -> tuple[web.AppRunner, str]:
    """Serve `handler` at `path` (a route pattern) on a free loopback port; returns the base URL."""
    app = web.Application()
    app.router.add_post(path, handler)
    # a handler that never answers (ChatServer.hang) would hold cleanup for aiohttp's default 60 s
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"
