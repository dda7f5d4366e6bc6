"""A bounded, per-process store of synthesised answer audio."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from livekit import rtc


@dataclass(frozen=True)
class AudioKey:
    """What makes two syntheses interchangeable: the answer and the voice that spoke it."""

    answer_id: str
    voice: str


class AudioCache:
    """Least-recently-used audio clips, evicted once their PCM exceeds a byte budget."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self._clips: OrderedDict[AudioKey, tuple[rtc.AudioFrame, ...]] = OrderedDict()
        self._sizes: dict[AudioKey, int] = {}
        self.size_bytes = 0

    def __len__(self) -> int:
        return len(self._clips)

    def get(self, key: AudioKey) -> tuple[rtc.AudioFrame, ...] | None:
        """The clip for key, marking it recently used, or None."""
        clip = self._clips.get(key)
        if clip is not None:
            self._clips.move_to_end(key)
        return clip

    def put(self, key: AudioKey, frames: Sequence[rtc.AudioFrame]) -> bool:
        """Store a complete clip; returns False when it alone is larger than the budget."""
        size = sum(len(f.data) * 2 for f in frames)  # int16 samples
        if size > self.budget_bytes or not frames:
            return False
        if key in self._clips:
            self.size_bytes -= self._sizes.pop(key)
            del self._clips[key]
        self._clips[key] = tuple(frames)
        self._sizes[key] = size
        self.size_bytes += size
        while self.size_bytes > self.budget_bytes:
            old, _ = self._clips.popitem(last=False)
            self.size_bytes -= self._sizes.pop(old)
        return True
