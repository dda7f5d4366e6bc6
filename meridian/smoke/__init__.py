"""Prove that a region answers a real voice turn, and how fast: the smoke test as a library.

A release step can run it in-process::

    targets, credentials, limits = configure(manifest_path, "eu-west", os.environ)
    [result] = run_smoke(targets, credentials, load_clip(), RtcMediaSession, limits)
    result.ok, result.reply_latency_ms, result.failed_step
"""

from meridian.smoke.config import ConfigError, configure, credentials_from_env
from meridian.smoke.media import (
    DEFAULT_CLIP,
    Clip,
    ClipError,
    MediaFactory,
    RtcMediaSession,
    load_clip,
)
from meridian.smoke.render import exit_code, render_json, render_text
from meridian.smoke.run import (
    Credentials,
    Limits,
    RegionResult,
    SmokeRun,
    StepResult,
    Target,
    run_all,
    run_smoke,
)

__all__ = [
    "DEFAULT_CLIP",
    "Clip",
    "ClipError",
    "ConfigError",
    "Credentials",
    "Limits",
    "MediaFactory",
    "RegionResult",
    "RtcMediaSession",
    "SmokeRun",
    "StepResult",
    "Target",
    "configure",
    "credentials_from_env",
    "exit_code",
    "load_clip",
    "render_json",
    "render_text",
    "run_all",
    "run_smoke",
]
