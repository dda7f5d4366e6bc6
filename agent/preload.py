"""Imported once in the worker's forkserver (AgentServer `preload_modules`): the turn gate's
trigram model (about 32 MB) is loaded there, so every job process shares it copy-on-write, as
the framework does for the VAD and end-of-turn weights, instead of loading its own copy."""

from agent.completeness import EnglishTrigram

EnglishTrigram.shipped()
