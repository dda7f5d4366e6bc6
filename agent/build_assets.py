"""`python -m agent download-files`: put every model in the image at build time."""

from __future__ import annotations

import sys

import numpy as np


def prepare_image_assets() -> int:
    """Fetch plugin files, load and exercise the local VAD, end-of-turn and turn-gate models,
    check the FAQ.

    Returns the process exit code; any failure fails the image build instead of a cold start.
    """
    # importing the plugins registers them, as the worker does at start
    import livekit.plugins.azure
    import livekit.plugins.openai  # noqa: F401
    from livekit.agents import Plugin
    from livekit.local_inference import EOT, VAD, VAD_WINDOW_SAMPLES

    from agent.faq import Faq, FaqFileError
    from agent.server import load_local_models
    from agent.settings import DEFAULT_FAQ_PATH, DEFAULT_FAQ_THRESHOLD
    from agent.turn_gate import TurnGate

    try:
        for plugin in Plugin.registered_plugins:
            plugin.download_files()
        load_local_models()
        # one prediction each proves the native weights load on this platform
        VAD().predict(np.zeros(VAD_WINDOW_SAMPLES, dtype=np.int16))
        EOT().predict(np.zeros(1600, dtype=np.int16))
        TurnGate().decide("My order number is", "en")
        faq = Faq.load(DEFAULT_FAQ_PATH, DEFAULT_FAQ_THRESHOLD)
    except (OSError, RuntimeError, ValueError, FaqFileError) as exc:
        print(f"agent: download-files failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"agent: models ready (plugins: {len(Plugin.registered_plugins)}, "
        f"local VAD, end-of-turn and turn-gate models loaded, FAQ entries: {len(faq.entries)})"
    )
    return 0
