"""Imported once in the worker's forkserver (AgentServer `preload_modules`): the turn gate's
trigram model (about 32 MB) and tagger lexicon are loaded there, so every job process shares
them copy-on-write, as the framework does for the VAD and end-of-turn weights, instead of
loading its own copy."""

from agent.completeness import EnglishTrigram, Tagger

EnglishTrigram.shipped()
Tagger.shipped()
