"""Parse the agent's environment, once, into a typed and validated settings object."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args
from urllib.parse import urlparse

from agent.prompt import DEFAULT_SYSTEM_PROMPT
from envconfig import Secret, SettingsError

SttProvider = Literal["livekit", "azure"]
LlmProvider = Literal["livekit", "azure-openai", "openai"]
TtsProvider = Literal["livekit", "azure"]

DEFAULT_FAQ_PATH = Path(__file__).with_name("faq.yaml")
# rapidfuzz scores run 0-100. 85 accepts "whats your opening hours" for "what are your opening
# hours" but rejects questions that only share a topic word; see agent/faq.py.
DEFAULT_FAQ_THRESHOLD = 85.0
DEFAULT_AUDIO_CACHE_MB = 32
# The Azure OpenAI data-plane API version that the OpenAI plugin's chat completions target.
DEFAULT_AZURE_OPENAI_API_VERSION = "2024-10-21"

_REGION_KEY = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_AZURE_LOCATION = re.compile(r"^[a-z0-9]+$")
_AGENT_NAME = re.compile(r"^[A-Za-z0-9]+([._-][A-Za-z0-9]+)*$")


@dataclass(frozen=True)
class SttSettings:
    """Speech-to-text stage."""

    provider: SttProvider
    model: str
    language: str | None = None
    endpoint: str | None = None
    api_key: Secret | None = None


@dataclass(frozen=True)
class LlmSettings:
    """Language-model stage."""

    provider: LlmProvider
    model: str
    endpoint: str | None = None
    api_key: Secret | None = None
    api_version: str = DEFAULT_AZURE_OPENAI_API_VERSION


@dataclass(frozen=True)
class TtsSettings:
    """Text-to-speech stage."""

    provider: TtsProvider
    model: str
    voice: str | None = None
    language: str | None = None
    endpoint: str | None = None
    api_key: Secret | None = None


@dataclass(frozen=True)
class CacheSettings:
    """The FAQ response cache."""

    faq_path: Path = DEFAULT_FAQ_PATH
    threshold: float = DEFAULT_FAQ_THRESHOLD
    audio_budget_bytes: int = DEFAULT_AUDIO_CACHE_MB * 1024 * 1024


@dataclass(frozen=True)
class WorkerSettings:
    """How the worker registers, sheds load and drains."""

    livekit_url: str
    api_key: Secret
    api_secret: Secret
    agent_name: str
    drain_seconds: int
    load_threshold: float
    idle_processes: int


@dataclass(frozen=True)
class AgentSettings:
    """Everything the agent reads from its environment."""

    region: str
    location: str
    worker: WorkerSettings
    stt: SttSettings
    llm: LlmSettings
    tts: TtsSettings
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    cache: CacheSettings = field(default_factory=CacheSettings)

    def secrets(self) -> list[str]:
        """Every credential value, so log redaction can scrub them wherever they appear."""
        found = [self.worker.api_key, self.worker.api_secret]
        found += [s.api_key for s in (self.stt, self.llm, self.tts) if s.api_key is not None]
        return [secret.reveal() for secret in found if secret is not None]


class _Env:
    """Reads variables from one mapping and raises SettingsError naming the variable."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def optional(self, name: str) -> str | None:
        value = self._env.get(name)
        if value is None or not value.strip():
            return None
        return value.strip()

    def required(self, name: str, what: str) -> str:
        value = self.optional(name)
        if value is None:
            raise SettingsError(name, f"is not set; expected {what}")
        return value

    def secret(self, name: str, needed_for: str) -> Secret:
        value = self.optional(name)
        if value is None:
            raise SettingsError(name, f"is not set; it is required {needed_for}")
        return Secret(value)

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        expected = "one of " + ", ".join(allowed)
        value = self.required(name, expected)
        if value not in allowed:
            raise SettingsError(name, f"is {value!r}; expected {expected}")
        return value

    def integer(self, name: str, *, minimum: int, default: int | None = None) -> int:
        expected = f"a whole number >= {minimum}"
        raw = self.optional(name)
        if raw is None:
            if default is not None:
                return default
            raise SettingsError(name, f"is not set; expected {expected}")
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(name, f"is {raw!r}; expected {expected}") from None
        if value < minimum:
            raise SettingsError(name, f"is {raw!r}; expected {expected}")
        return value

    def number(
        self, name: str, *, low: float, high: float, low_open: bool, default: float | None = None
    ) -> float:
        expected = f"a number in {'(' if low_open else '['}{low:g}, {high:g}]"
        raw = self.optional(name)
        if raw is None:
            if default is not None:
                return default
            raise SettingsError(name, f"is not set; expected {expected}")
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(name, f"is {raw!r}; expected {expected}") from None
        too_low = value <= low if low_open else value < low
        if not math.isfinite(value) or too_low or value > high:
            raise SettingsError(name, f"is {raw!r}; expected {expected}")
        return value

    def url(self, name: str, schemes: tuple[str, ...], *, required: bool) -> str | None:
        expected = "a URL starting with " + " or ".join(f"{s}://" for s in schemes)
        raw = self.required(name, expected) if required else self.optional(name)
        if raw is None:
            return None
        parsed = urlparse(raw)
        if parsed.scheme not in schemes or not parsed.netloc:
            raise SettingsError(name, f"is {raw!r}; expected {expected}")
        return raw.rstrip("/")


def _livekit_model(env: _Env, name: str, example: str) -> str:
    model = env.required(name, f"a LiveKit Inference model string such as {example!r}")
    provider, _, rest = model.partition("/")
    if not provider or not rest:
        raise SettingsError(
            name, f"is {model!r}; expected a LiveKit Inference model string such as {example!r}"
        )
    return model


def _stt(env: _Env) -> SttSettings:
    provider: SttProvider = env.choice("MERIDIAN_STT_PROVIDER", get_args(SttProvider))  # type: ignore[assignment]
    language = env.optional("MERIDIAN_STT_LANGUAGE")
    endpoint = env.url("MERIDIAN_STT_ENDPOINT", ("wss", "https"), required=False)
    if provider == "livekit":
        model = _livekit_model(env, "MERIDIAN_STT_MODEL", "deepgram/nova-3")
        return SttSettings(provider, model, language, endpoint)
    model = env.required("MERIDIAN_STT_MODEL", "the Azure Speech model name, e.g. 'azure'")
    key = env.secret("AZURE_SPEECH_KEY", "when MERIDIAN_STT_PROVIDER is azure")
    return SttSettings(provider, model, language, endpoint, key)


def _llm(env: _Env) -> LlmSettings:
    provider: LlmProvider = env.choice("MERIDIAN_LLM_PROVIDER", get_args(LlmProvider))  # type: ignore[assignment]
    if provider == "livekit":
        model = _livekit_model(env, "MERIDIAN_LLM_MODEL", "openai/gpt-4.1-mini")
        endpoint = env.url("MERIDIAN_LLM_ENDPOINT", ("https",), required=False)
        return LlmSettings(provider, model, endpoint)
    if provider == "azure-openai":
        model = env.required("MERIDIAN_LLM_MODEL", "the Azure OpenAI deployment name")
        endpoint = env.url("MERIDIAN_LLM_ENDPOINT", ("https",), required=True)
        key = env.secret("AZURE_OPENAI_API_KEY", "when MERIDIAN_LLM_PROVIDER is azure-openai")
        version = env.optional("MERIDIAN_LLM_API_VERSION") or DEFAULT_AZURE_OPENAI_API_VERSION
        return LlmSettings(provider, model, endpoint, key, version)
    model = env.required("MERIDIAN_LLM_MODEL", "an OpenAI model name such as 'gpt-4.1-mini'")
    endpoint = env.url("MERIDIAN_LLM_ENDPOINT", ("https",), required=False)
    key = env.secret("OPENAI_API_KEY", "when MERIDIAN_LLM_PROVIDER is openai")
    return LlmSettings(provider, model, endpoint, key)


def _tts(env: _Env) -> TtsSettings:
    provider: TtsProvider = env.choice("MERIDIAN_TTS_PROVIDER", get_args(TtsProvider))  # type: ignore[assignment]
    voice = env.optional("MERIDIAN_TTS_VOICE")
    language = env.optional("MERIDIAN_TTS_LANGUAGE")
    endpoint = env.url("MERIDIAN_TTS_ENDPOINT", ("wss", "https"), required=False)
    if provider == "livekit":
        model = _livekit_model(env, "MERIDIAN_TTS_MODEL", "cartesia/sonic-3")
        return TtsSettings(provider, model, voice, language, endpoint)
    model = env.required("MERIDIAN_TTS_MODEL", "the Azure Speech voice or model name")
    key = env.secret("AZURE_SPEECH_KEY", "when MERIDIAN_TTS_PROVIDER is azure")
    return TtsSettings(provider, model, voice, language, endpoint, key)


def _worker(env: _Env, region: str) -> WorkerSettings:
    url = env.url("LIVEKIT_URL", ("wss", "ws", "https", "http"), required=True)
    assert url is not None
    agent_name = env.required("LIVEKIT_AGENT_NAME", f"'<agent>-{region}'")
    if not _AGENT_NAME.match(agent_name) or not agent_name.endswith(f"-{region}"):
        raise SettingsError(
            "LIVEKIT_AGENT_NAME",
            f"is {agent_name!r}; expected '<agent>-{region}' (letters, digits, '-', '_', '.'"
            " ending with the MERIDIAN_REGION key)",
        )
    return WorkerSettings(
        livekit_url=url,
        api_key=env.secret("LIVEKIT_API_KEY", "to register with LiveKit"),
        api_secret=env.secret("LIVEKIT_API_SECRET", "to register with LiveKit"),
        agent_name=agent_name,
        drain_seconds=env.integer("MERIDIAN_DRAIN_SECONDS", minimum=1),
        load_threshold=env.number("MERIDIAN_LOAD_THRESHOLD", low=0, high=1, low_open=True),
        idle_processes=env.integer("MERIDIAN_IDLE_PROCESSES", minimum=0),
    )


def _cache(env: _Env) -> CacheSettings:
    raw_path = env.optional("MERIDIAN_FAQ_PATH")
    faq_path = Path(raw_path) if raw_path else DEFAULT_FAQ_PATH
    if not faq_path.is_file():
        raise SettingsError("MERIDIAN_FAQ_PATH", f"is {str(faq_path)!r}; expected a readable file")
    threshold = env.number(
        "MERIDIAN_FAQ_THRESHOLD", low=0, high=100, low_open=True, default=DEFAULT_FAQ_THRESHOLD
    )
    budget_mb = env.integer("MERIDIAN_AUDIO_CACHE_MB", minimum=0, default=DEFAULT_AUDIO_CACHE_MB)
    return CacheSettings(faq_path, threshold, budget_mb * 1024 * 1024)


def load_settings(environ: Mapping[str, str] | None = None) -> AgentSettings:
    """Read and validate the agent's settings; raises SettingsError for the first bad variable."""
    env = _Env(os.environ if environ is None else environ)
    region = env.required("MERIDIAN_REGION", "the region key, e.g. 'eu-west'")
    if not _REGION_KEY.match(region):
        raise SettingsError(
            "MERIDIAN_REGION", f"is {region!r}; expected lowercase letters, digits and '-'"
        )
    location = env.required("MERIDIAN_LOCATION", "the Azure location, e.g. 'westeurope'")
    if not _AZURE_LOCATION.match(location):
        raise SettingsError(
            "MERIDIAN_LOCATION",
            f"is {location!r}; expected an Azure location name such as 'westeurope'",
        )
    return AgentSettings(
        region=region,
        location=location,
        worker=_worker(env, region),
        stt=_stt(env),
        llm=_llm(env),
        tts=_tts(env),
        system_prompt=env.optional("MERIDIAN_SYSTEM_PROMPT") or DEFAULT_SYSTEM_PROMPT,
        cache=_cache(env),
    )
