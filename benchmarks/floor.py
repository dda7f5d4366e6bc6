"""The critical-path floor of a turn: its e2e if the framework's own code took no time.

Only the stated model latencies and the configured waits are allowed to cost time. The stages
overlap, so the floor is a longest path, not a sum:

    speech ends (0) ─┬─ STT final at S = stt
                     └─ endpointing: commit at C = max(V + max(vad_silence, delay), S)
    LLM starts at L = S when preemptive generation was used, else C
    first token at F = L + ttft (a cache hit skips the LLM: F = L)
    TTS input at T = F when streaming, else when the LLM is done: L + ttft + (tokens-1)/rate
    audio ready at A = T + ttfb (cached audio: A = L)
    first audio out = max(C, A) when TTS may run before the commit (preemptive TTS),
                      else max(C, T) + ttfb (TTS waits for the commit), or C with cached audio

`delay` is the endpointing wait the turn really got: the minimum delay, or the maximum when
the end-of-turn model judged the turn unfinished. The framework starts that wait at the VAD's
own estimate of where speech ended, V after the true end: V is a property of the VAD model (its
speech probability takes a while to fall), not time spent in framework code, so the floor
keeps it, and the benchmark reports it as its own column.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelLatencies:
    """The remote models' fixed latencies (today's fast hosted models)."""

    stt_final: float = 0.150
    llm_ttft: float = 0.250
    llm_tokens_per_second: float = 50.0
    tts_first_byte: float = 0.120


@dataclass(frozen=True)
class TurnPath:
    """What one turn did, as far as the floor depends on it."""

    vad_min_silence: float
    endpointing_delay: float
    vad_lag: float
    preemptive_llm: bool
    preemptive_tts: bool
    streaming: bool
    llm_tokens: int
    cache_text: bool = False
    cache_audio: bool = False
    # The LLM call's own first-token and last-token times, when observed: the stand-in paces
    # tokens with sleeps that overshoot a little each, and that drift is the stand-in's, not
    # the framework's.
    llm_ttft: float | None = None
    llm_total: float | None = None


@dataclass(frozen=True)
class Floor:
    """The floor and its stage times, in seconds after the true end of speech."""

    stt_final: float
    commit: float
    llm_start: float
    tts_input: float
    first_audio: float


def critical_path_floor(path: TurnPath, models: ModelLatencies) -> Floor:
    """The earliest the first audio could leave if only models and configured waits cost time."""
    stt = models.stt_final
    commit = max(path.vad_lag + max(path.vad_min_silence, path.endpointing_delay), stt)
    llm_start = stt if path.preemptive_llm else commit
    ttft = models.llm_ttft if path.llm_ttft is None else path.llm_ttft
    total = path.llm_total
    if total is None:
        total = models.llm_ttft + max(path.llm_tokens - 1, 0) / models.llm_tokens_per_second
    if path.cache_text:
        tts_input = llm_start
    elif path.streaming:
        tts_input = llm_start + ttft
    else:
        tts_input = llm_start + total
    if path.cache_audio:
        first_audio = max(commit, llm_start)
    elif path.preemptive_tts:
        first_audio = max(commit, tts_input + models.tts_first_byte)
    else:
        first_audio = max(commit, tts_input) + models.tts_first_byte
    return Floor(stt, commit, llm_start, tts_input, first_audio)


def answered_at(
    wait: float, vad_lag: float, vad_min_silence: float, models: ModelLatencies
) -> float:
    """The floor's first audio for a finished question that waited `wait` after the VAD's end of
    speech, with Meridian's streaming and preemptive LLM and TTS (a 36-token reply)."""
    path = TurnPath(
        vad_min_silence=vad_min_silence,
        endpointing_delay=wait,
        vad_lag=vad_lag,
        preemptive_llm=True,
        preemptive_tts=True,
        streaming=True,
        llm_tokens=36,
    )
    return critical_path_floor(path, models).first_audio
