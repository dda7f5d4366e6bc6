"""A bounded store of synthesised answer audio, shared by every job process of one worker.

livekit-agents runs each job in a process of its own, and a job process serves exactly one job,
so audio kept in process memory lasts one call. This store keeps each clip as a file in one
private directory on the replica (created by the worker at start, `new_store_dir`), which every
job process reads and writes: a clip synthesised in one call is replayed in the next call that
asks the same question, in whichever process it runs. Why files and not the forkserver or shared
memory: docs/agent.md ("Response cache").

- Key: the text spoken and everything else that changes the audio (TTS provider, model, voice,
  sample rate, channels). A file's name is a hash of the key; its header holds the key itself,
  which is checked on every read.
- Publication is atomic: a clip is written to a temporary file in the same directory and renamed
  into place, so a reader sees a whole clip or none.
- Bounded in bytes: after each write the oldest-used clips (by modification time, which a read
  refreshes) are deleted until the directory fits the budget.
- Anything unreadable (truncated, foreign, another version) is a miss and is removed; a disk
  that fails (full, gone) costs the cache, never the call: it is logged and the TTS runs.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import struct
import tempfile
import time
import weakref
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from shutil import rmtree

import structlog
from livekit import rtc

_log = structlog.get_logger("agent.audio_cache")
_MAGIC = b"MRDNAUD1"
_HEADER_LENGTH = struct.Struct(">I")
_SUFFIX = ".clip"
_TEMP_PREFIX = ".writing-"
# A temporary file older than this was left by a job process that died mid-write.
STALE_TEMP_SECONDS = 60.0
# Headers are a few hundred bytes; anything longer is not one of ours.
_MAX_HEADER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Voice:
    """The TTS settings that shape a synthesis: two clips are interchangeable only in one voice."""

    provider: str
    model: str
    # the configured voice and language, and the TTS client's class
    voice: str
    sample_rate: int
    num_channels: int


@dataclass(frozen=True)
class AudioKey:
    """What makes two syntheses interchangeable: the words, and the voice that speaks them."""

    text: str
    voice: Voice

    def file_name(self) -> str:
        """The clip's file name: a hash of the whole key."""
        canonical = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest() + _SUFFIX


def new_store_dir() -> Path:
    """A fresh private directory (mode 0700) for one worker's clips, under the system temporary
    directory (TMPDIR), removed when the process that made it exits normally."""
    path = Path(tempfile.mkdtemp(prefix="meridian-audio-"))
    atexit.register(rmtree, path, ignore_errors=True)
    return path


class AudioCache:
    """Clips on disk under `directory`, evicted least recently used past `budget_bytes`.

    Without a directory it makes a private one of its own (for a single process, e.g. a test or a
    benchmark), removed with the cache.
    """

    def __init__(self, budget_bytes: int, directory: Path | None = None) -> None:
        self.budget_bytes = budget_bytes
        if directory is None:
            directory = Path(tempfile.mkdtemp(prefix="meridian-audio-"))
            weakref.finalize(self, rmtree, directory, ignore_errors=True)
        self.directory = directory

    def __len__(self) -> int:
        return len(self._clips())

    @property
    def size_bytes(self) -> int:
        """The bytes the stored clips take on disk."""
        return sum(size for _, size, _ in self._clips())

    def get(self, key: AudioKey) -> tuple[rtc.AudioFrame, ...] | None:
        """The clip for `key`, marking it recently used, or None."""
        path = self.directory / key.file_name()
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            _log.warning("audio_cache_unreadable", error=type(exc).__name__, path=str(path))
            return None
        frames = _decode(data, key)
        if frames is None:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return None
        with contextlib.suppress(FileNotFoundError):
            os.utime(path)
        return frames

    def put(self, key: AudioKey, frames: Sequence[rtc.AudioFrame]) -> bool:
        """Store a complete clip; False when there is nothing to store or it alone is larger
        than the budget."""
        data = _encode(key, frames)
        if data is None or len(data) > self.budget_bytes:
            return False
        try:
            fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=self.directory)
        except OSError as exc:
            _log.warning("audio_cache_unwritable", error=type(exc).__name__)
            return False
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temp, self.directory / key.file_name())
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            if not isinstance(exc, OSError):
                raise
            _log.warning("audio_cache_unwritable", error=type(exc).__name__)
            return False
        self._evict()
        return True

    def _clips(self) -> list[tuple[Path, int, int]]:
        """(path, size, last used in ns) of every stored clip; sweeps abandoned temp files."""
        found: list[tuple[Path, int, int]] = []
        now = time.time()
        try:
            entries = os.scandir(self.directory)
        except OSError:
            return found
        with entries:
            for entry in entries:
                try:
                    stat = entry.stat()
                except FileNotFoundError:
                    continue  # evicted by another process meanwhile
                if entry.name.startswith(_TEMP_PREFIX):
                    if now - stat.st_mtime > STALE_TEMP_SECONDS:
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(entry.path)
                elif entry.name.endswith(_SUFFIX):
                    found.append((Path(entry.path), stat.st_size, stat.st_mtime_ns))
        return found

    def _evict(self) -> None:
        clips = sorted(self._clips(), key=lambda clip: clip[2])
        total = sum(size for _, size, _ in clips)
        for path, size, _ in clips:
            if total <= self.budget_bytes:
                break
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            total -= size


def _encode(key: AudioKey, frames: Sequence[rtc.AudioFrame]) -> bytes | None:
    """The file for a clip; None for no frames, or frames that do not share one format."""
    formats = {(f.sample_rate, f.num_channels) for f in frames}
    if len(formats) != 1:
        return None
    [(sample_rate, num_channels)] = formats
    header = json.dumps(
        {
            "key": asdict(key),
            "sample_rate": sample_rate,
            "num_channels": num_channels,
            "frames": [f.samples_per_channel for f in frames],
        }
    ).encode()
    pcm = b"".join(bytes(f.data) for f in frames)
    return _MAGIC + _HEADER_LENGTH.pack(len(header)) + header + pcm


def _decode(data: bytes, key: AudioKey) -> tuple[rtc.AudioFrame, ...] | None:
    """The frames of a stored clip, or None unless it is a whole clip of exactly `key`."""
    start = len(_MAGIC) + _HEADER_LENGTH.size
    if len(data) < start or not data.startswith(_MAGIC):
        return None
    (length,) = _HEADER_LENGTH.unpack_from(data, len(_MAGIC))
    if length > _MAX_HEADER_BYTES or len(data) < start + length:
        return None
    try:
        header = json.loads(data[start : start + length])
        if header["key"] != asdict(key):
            return None
        sample_rate, num_channels = int(header["sample_rate"]), int(header["num_channels"])
        counts = [int(n) for n in header["frames"]]
    except (ValueError, KeyError, TypeError):
        return None
    pcm = memoryview(data)[start + length :]
    bytes_per_sample = 2 * num_channels  # int16 PCM
    if (
        sample_rate <= 0
        or num_channels <= 0
        or not counts
        or min(counts) <= 0
        or sum(counts) * bytes_per_sample != len(pcm)
    ):
        return None
    frames = []
    offset = 0
    for count in counts:
        size = count * bytes_per_sample
        frames.append(
            rtc.AudioFrame(bytes(pcm[offset : offset + size]), sample_rate, num_channels, count)
        )
        offset += size
    return tuple(frames)
