"""Deterministic agent `turn` logs for the latency-report tests and the docs' example."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

# Median seconds per stage: (transcription, endpointing wait, llm ttft, tts ttfb, overhead).
REGION_PROFILES: dict[str, tuple[float, float, float, float, float]] = {
    "eu-west": (0.18, 0.32, 0.42, 0.16, 0.07),
    "us-east": (0.15, 0.30, 0.35, 0.14, 0.06),
    "ap-southeast": (0.26, 0.33, 0.61, 0.25, 0.09),
}
# Share of each region's callers speaking a language the turn gate has no text model for.
NO_TEXT_MODEL_SHARE: dict[str, float] = {"eu-west": 0.04, "us-east": 0.02, "ap-southeast": 0.12}
# Chance that the caller goes on speaking after the agent started answering, per verdict.
RESUMED_CHANCE: dict[str, float] = {
    "finished": 0.06,
    "unfinished": 0.01,
    "no_text_model": 0.01,
}
# The turn gate's fixed wait after the end of speech for each verdict, in seconds (the defaults of
# agent/turn_gate.py's GateSettings): the real gate chooses the same wait for every turn of a verdict.
GATE_WAIT: dict[str, float] = {"finished": 0.35, "unfinished": 1.6, "no_text_model": 0.8}
# Drawn endpointing waits, as a multiple of the region's median, below which the sample's
# transcript reads as finished; a longer pause is taken for an unfinished sentence.
FINISHED_BELOW_WAIT_FACTOR = 1.125


def gate_fields(region: str, wait_factor: float, index: int) -> dict[str, Any]:
    """The turn gate's fields for one sample turn. The verdict follows the turn's drawn endpointing
    wait (a short wait was a "finished" transcript), the chosen wait is the gate's fixed wait for
    that verdict, and the rest comes from a random stream of its own, so adding the gate left the
    sample's timings, and the docs' example timing tables, unchanged."""
    rng = random.Random(f"gate-{index}")
    if rng.random() < NO_TEXT_MODEL_SHARE[region]:
        verdict, score = "no_text_model", None
    elif wait_factor < FINISHED_BELOW_WAIT_FACTOR:
        verdict, score = "finished", rng.uniform(0.8, 1.0)
    else:
        verdict, score = "unfinished", rng.uniform(0.0, 0.8)
    return {
        "gate_verdict": verdict,
        "gate_score": None if score is None else round(score, 3),
        "endpointing_delay": GATE_WAIT[verdict],
        "resumed": rng.random() < RESUMED_CHANCE[verdict],
    }


# Where each region's agent runs; eu-west's slowest LLM answers (the drawn LLM time above this
# multiple of its median) came from its fallback in eastus, as after a 429 in westeurope. The
# choice follows the draw, so the served fields left the sample's timings unchanged.
REGION_LOCATIONS = {"eu-west": "westeurope", "us-east": "eastus", "ap-southeast": "southeastasia"}
FALLBACK_ABOVE_LLM_FACTOR = 1.3


def served_fields(region: str, llm_factor: float, cache_hit: bool) -> dict[str, Any]:
    """Who served each stage of a sample turn, and where."""
    home = REGION_LOCATIONS[region]
    llm_at = "eastus" if region == "eu-west" and llm_factor > FALLBACK_ABOVE_LLM_FACTOR else home
    return {
        "location": home,
        "stt_provider": "azure-ai",
        "stt_deployment": "speech",
        "stt_location": home,
        "llm_provider": None if cache_hit else "azure-ai",
        "llm_deployment": None if cache_hit else "gpt-5.4-mini",
        "llm_location": None if cache_hit else llm_at,
        "tts_provider": "azure-ai",
        "tts_deployment": "en-US-AvaMultilingualNeural",
        "tts_location": home,
    }


def turn_event(region: str, rng: random.Random, index: int) -> dict[str, Any]:
    """One plausible `turn` event as the agent logs it, turn-gate fields included."""
    stt, wait, llm, tts, overhead = (
        v * rng.lognormvariate(0.0, 0.25) for v in REGION_PROFILES[region]
    )
    llm_factor = llm / REGION_PROFILES[region][2]
    cache_hit = rng.random() < 0.3
    if cache_hit:
        llm *= 0.45
    eou = stt + wait
    return {
        "event": "turn",
        "region": region,
        "room": f"room-{index % 7}",
        "job_id": f"AJ_{index:05d}",
        "speech_id": f"speech_{index:05d}",
        "eou_delay": round(eou, 4),
        "transcription_delay": round(stt, 4),
        "llm_ttft": round(llm, 4),
        "tts_ttfb": round(tts, 4),
        "e2e_latency": round(eou + llm + tts + overhead, 4),
        # agent/telemetry.py's MEDIA_PATH_SECONDS on top of e2e
        "heard_estimate": round(eou + llm + tts + overhead + 0.16, 4),
        "cache_hit": cache_hit,
        **gate_fields(region, wait / REGION_PROFILES[region][1], index),
        **served_fields(region, llm_factor, cache_hit),
        "timestamp": f"2026-11-24T10:{index // 60 % 60:02d}:{index % 60:02d}.000000Z",
        "level": "info",
    }


def turn_lines(turns_per_region: int = 200, seed: int = 6) -> list[str]:
    """JSON lines for every region in REGION_PROFILES, interleaved with other log events."""
    rng = random.Random(seed)
    lines = []
    index = 0
    for region in REGION_PROFILES:
        for _ in range(turns_per_region):
            lines.append(json.dumps(turn_event(region, rng, index)))
            index += 1
            if index % 50 == 0:
                lines.append(json.dumps({"event": "worker registered", "level": "info"}))
    return lines


def write_turn_log(directory: Path) -> Path:
    """Write the default sample as a JSON-lines agent log and return its path."""
    path = directory / "agent.jsonl"
    path.write_text("\n".join(turn_lines()) + "\n", encoding="utf-8")
    return path
