"""Check provisioned models against the shipped availability table before anything deploys: the
model and deployment type exist in the region, keep its residency policy, can still be newly
deployed, and each region's fallback keeps that policy too. Every problem names the region, the
model and what would work; what deploys but deserves a look becomes a warning."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from infra.manifest.errors import Errors
from infra.manifest.model import AiModels, ModelDeployment
from infra.manifest.schema import RegionSettings
from meridian.ai_models import (
    AZURE_SKUS,
    DEPLOYMENT_TYPES,
    RESIDENCIES,
    AiCatalog,
    DeploymentType,
    Residency,
    ai_catalog,
    allowed_by,
    is_hd_voice,
)
from meridian.geo.latency import default_model

# One session with real media (WebRTC in and out through LiveKit) holds 12.5-13.5% of a core
# (docs/benchmarks.md, media_capacity, 2026-12-03; 6.1% in mock rooms, which skip Opus and
# resampling); a worker admits sessions up to load_threshold x cores.
CPU_SHARE_PER_SESSION = 0.13
# Warn this long before a model's announced retirement.
RETIREMENT_NOTICE_DAYS = 90
# An availability table older than this is worth re-checking against Microsoft's pages.
STALE_TABLE_DAYS = 180
TABLE = "meridian/data/azure_ai_models.csv"

Owner = Callable[[tuple[str, ...]], tuple[str, ...]]


@dataclass(frozen=True)
class _Provisioned:
    key: str
    settings: RegionSettings
    owner: Owner
    plan: AiModels


def sessions_per_replica(settings: RegionSettings) -> int:
    """The most sessions one replica's worker admits before it reports itself full."""
    return max(
        1,
        math.floor(
            settings.worker.load_threshold * settings.resources.cpu / CPU_SHARE_PER_SESSION + 1e-9
        ),
    )


class ModelChecks:
    """Collects the models problems of every region (errors) and its notes (warnings)."""

    def __init__(self, errors: Errors, warnings: Errors, day: date) -> None:
        self.errors = errors
        self.warnings = warnings
        self.day = day
        self.catalog: AiCatalog = ai_catalog()
        self._provisioned: list[_Provisioned] = []

    # --- one region ---------------------------------------------------------------------------
    def region(self, key: str, settings: RegionSettings, owner: Owner) -> None:
        """Check one region's provisioned models; the plan is completed by `resolve`."""
        provision = settings.models.provision
        if provision is None:
            return
        cat, loc = self.catalog, settings.location

        def at(*loc_: str) -> tuple[str, ...]:
            path = ("models", *loc_)
            return (*owner(path), *path)

        self._note_stale_table()
        if not cat.knows(loc):
            self.errors.add(
                at("provision"),
                loc,
                f"Meridian's availability table ({cat.availability_revision}, {TABLE}) has no"
                f" entry for {loc} (region {key}), so nothing can be provisioned there; it covers"
                f" {', '.join(cat.locations)}",
            )
            return
        stages = settings.models.provisioned_stages
        ok = self._speech(key, settings, at)
        deployments: tuple[ModelDeployment, ...] = ()
        if "llm" in stages:
            deployment = self._llm(key, settings, provision.residency, at)
            ok = ok and deployment is not None
            deployments = (deployment,) if deployment else ()
        if "stt" in stages:
            self._speech_concurrency(key, settings, owner)
        if ok:
            plan = AiModels(provision.residency, stages, deployments, fallback=None)
            self._provisioned.append(_Provisioned(key, settings, owner, plan))

    def _speech(
        self, key: str, settings: RegionSettings, at: Callable[..., tuple[str, ...]]
    ) -> bool:
        cat, loc, ok = self.catalog, settings.location, True
        stages = [s for s in ("stt", "tts") if s in settings.models.provisioned_stages]
        if stages and loc not in cat.speech_locations:
            self.errors.add(
                at(stages[0], "provider"),
                "azure-ai",
                f"Azure Speech is not in Meridian's table for {loc} (region {key}); nearest with"
                f" Speech: {self._nearest(loc, cat.speech_locations)}",
            )
            ok = False
        tts = settings.models.tts
        voice = tts.voice or tts.model or ""
        if "tts" in stages and is_hd_voice(voice) and loc not in cat.hd_voice_locations:
            self.errors.add(
                at("tts", "voice" if tts.voice else "model"),
                voice,
                f"HD voices are not offered in {loc} (region {key}); use a neural voice such as"
                f" en-US-AvaMultilingualNeural, or a region with HD voices:"
                f" {self._nearest(loc, cat.hd_voice_locations)}",
            )
            ok = False
        return ok

    def _llm(
        self,
        key: str,
        settings: RegionSettings,
        residency: Residency,
        at: Callable[..., tuple[str, ...]],
    ) -> ModelDeployment | None:
        cat, loc, spec = self.catalog, settings.location, settings.models.llm
        assert spec.model and spec.deployment and spec.capacity
        model, kind = spec.model, spec.deployment
        info = cat.models.get(model)
        if info is None:
            chat = [m for m, i in cat.models.items() if i.kind == "chat"]
            self.errors.add(
                at("llm", "model"),
                model,
                f"not in Meridian's availability table ({cat.availability_revision}); known chat"
                f" models: {', '.join(chat)}",
            )
            return None
        if info.kind != "chat":
            self.errors.add(
                at("llm", "model"),
                model,
                "a realtime speech-to-speech model; the agent's pipeline (STT, LLM, TTS) needs a"
                f" chat model, e.g. {self._deployable_here(loc, residency) or 'gpt-5.4-mini'}",
            )
            return None
        refused = info.refused_on(self.day)
        if refused:
            alternatives = self._deployable_here(loc, residency)
            hint = (
                f"deployable in {loc} under residency {residency!r}: {alternatives}"
                if alternatives
                else self._nearest_with(loc, residency, None)
            )
            self.errors.add(
                at("llm", "model"),
                model,
                f"{model} is {refused} (Azure's schedule of {cat.lifecycle_revision}, checked on"
                f" {self.day}); region {key}: {hint}",
            )
            return None
        if info.retires and (info.retires - self.day).days <= RETIREMENT_NOTICE_DAYS:
            self.warnings.add(
                at("llm", "model"),
                model,
                f"{model} retires on {info.retires} ({(info.retires - self.day).days} days after"
                f" {self.day}); after that every call in region {key} fails: plan its successor",
            )
        if not allowed_by(residency, kind):
            self.errors.add(
                at("llm", "deployment"),
                kind,
                f"a {kind} deployment may process calls outside {_scope(residency, loc)}, which"
                f" residency {residency!r} of region {key} forbids; {self._suggest(model, loc, residency)}",
            )
            return None
        if kind not in cat.types(loc, model):
            self.errors.add(
                at("llm", "deployment"),
                kind,
                f"{model} has no {kind} deployment in {loc} (region {key}, table of"
                f" {cat.availability_revision}); {self._suggest(model, loc, residency)}",
            )
            return None
        if kind == "provisioned" and info.ptu_minimum:
            step = info.ptu_increment or 1
            if spec.capacity < info.ptu_minimum or spec.capacity % step:
                self.errors.add(
                    at("llm", "capacity"),
                    spec.capacity,
                    f"provisioned {model} takes at least {info.ptu_minimum} PTUs, in steps of"
                    f" {step} (region {key})",
                )
                return None
        return ModelDeployment(
            name=model,
            model=model,
            version=spec.version or info.version,
            deployment_type=kind,
            sku=AZURE_SKUS[kind],
            capacity=spec.capacity,
        )

    def _speech_concurrency(self, key: str, settings: RegionSettings, owner: Owner) -> None:
        per_replica = sessions_per_replica(settings)
        peak = settings.replicas.max * per_replica
        limit = self.catalog.speech_concurrent_recognitions
        if peak > limit:
            path = ("replicas", "max")
            self.warnings.add(
                (*owner(path), *path),
                settings.replicas.max,
                f"region {key} may run {settings.replicas.max} replicas of up to {per_replica}"
                f" sessions ({peak} concurrent recognitions, one per call), over Azure Speech's"
                f" default of {limit} per resource: calls past it are refused (and fall back, if"
                f" a fallback is set); ask Azure support to raise it, or keep replicas.max at"
                f" {max(1, limit // per_replica)} or below",
            )

    def _note_stale_table(self) -> None:
        age = (self.day - self.catalog.availability_revision).days
        if age > STALE_TABLE_DAYS:
            self.warnings.note(
                f"Meridian's availability table ({TABLE}, {self.catalog.availability_revision})"
                f" is {age} days old on {self.day}:"
                " Azure changes where models run; check Microsoft's model-matrix pages before"
                " relying on it (see meridian/data/SOURCES.md)",
            )

    # --- suggestions ------------------------------------------------------------------------------
    def _deployable_here(self, loc: str, residency: Residency) -> str:
        return ", ".join(f"{m} {t}" for m, t in self.catalog.deployable(loc, residency, self.day))

    def _suggest(self, model: str, loc: str, residency: Residency) -> str:
        cat = self.catalog
        offered = cat.types(loc, model)
        here = [t for t in DEPLOYMENT_TYPES if t in offered and allowed_by(residency, t)]
        if here:
            return f"in {loc}, residency {residency!r} allows deployment: {' or '.join(here)}"
        parts = []
        if offered:
            others = ", ".join(t for t in DEPLOYMENT_TYPES if t in offered)
            needed = next(r for r in RESIDENCIES if any(allowed_by(r, t) for t in offered))
            parts.append(
                f"{loc} offers {model} only as {others}, which residency {residency!r} forbids"
                f" (residency {needed!r} allows it)"
            )
        else:
            parts.append(f"{loc} does not offer {model}")
        alternatives = self._deployable_here(loc, residency)
        if alternatives:
            parts.append(f"deployable there under {residency!r}: {alternatives}")
        parts.append(self._nearest_with(loc, residency, model))
        return "; ".join(parts)

    def _nearest_with(self, loc: str, residency: Residency, model: str | None) -> str:
        """The nearest table regions offering `model` (or any deployable model) under the policy."""
        cat, found = self.catalog, []
        for other in cat.locations:
            if other == loc:
                continue
            pairs = cat.deployable(other, residency, self.day, [model] if model else None)
            if pairs:
                first = pairs[0][0]
                found.append(
                    (self._rtt(loc, other), other, first, [t for m, t in pairs if m == first])
                )
        found.sort()
        shown = [
            f"{other} ({m} {' or '.join(types)}, ~{rtt:.0f} ms from {loc})"
            for rtt, other, m, types in found[:2]
        ]
        what = model or "a deployable model"
        return (
            f"nearest regions with {what} under residency {residency!r}: {', '.join(shown)}"
            if shown
            else f"no region in the table offers {what} under residency {residency!r}"
        )

    def _nearest(self, loc: str, locations: frozenset[str]) -> str:
        ranked = sorted((self._rtt(loc, o), o) for o in locations if o != loc)
        return ", ".join(f"{o} (~{rtt:.0f} ms)" for rtt, o in ranked[:2])

    @staticmethod
    def _rtt(a: str, b: str) -> float:
        return default_model().backbone_rtt_ms(a, b)

    # --- across regions -------------------------------------------------------------------------
    def resolve(self) -> dict[str, AiModels]:
        """Each provisioned region's plan, with its fallback region chosen and checked."""
        by_key = {p.key: p for p in self._provisioned}
        plans: dict[str, AiModels] = {}
        for p in self._provisioned:
            plans[p.key] = replace(p.plan, fallback=self._fallback(p, by_key))
        return plans

    def _fallback(self, p: _Provisioned, by_key: dict[str, _Provisioned]) -> str | None:
        provision = p.settings.models.provision
        assert provision is not None
        choice, residency, loc = provision.fallback, provision.residency, p.settings.location
        sub = ("models", "provision", "fallback")
        path = (*p.owner(sub), *sub)
        if choice == "none":
            return None

        def unfit(other: _Provisioned) -> str | None:
            if not self.catalog.keeps_residency(residency, loc, other.settings.location):
                return (
                    f"region {other.key} processes in {other.settings.location}, outside"
                    f" {_scope(residency, loc)} that residency {residency!r} of region {p.key} requires"
                )
            missing = [s for s in p.plan.stages if s not in other.plan.stages]
            if missing:
                return f"region {other.key} does not provision {', '.join(missing)}"
            voice = p.settings.models.tts.voice or p.settings.models.tts.model or ""
            if (
                "tts" in p.plan.stages
                and is_hd_voice(voice)
                and other.settings.location not in self.catalog.hd_voice_locations
            ):
                return f"region {other.key} has no HD voices for {voice}"
            return None

        if choice == "nearest":
            fits = [o for k, o in by_key.items() if k != p.key and unfit(o) is None]
            if not fits:
                self.warnings.add(
                    path,
                    choice,
                    f"region {p.key} has no fallback: no other region provisions its models within"
                    f" residency {residency!r}; a 429 or an outage of its account fails the call"
                    " (set fallback: none to say so)",
                )
                return None
            return min(fits, key=lambda o: (self._rtt(loc, o.settings.location), o.key)).key
        other = by_key.get(choice)
        if choice == p.key or other is None:
            allowed = ", ".join(["nearest", "none", *(k for k in by_key if k != p.key)])
            self.errors.add(
                path,
                choice,
                f"the fallback is another region that provisions its models; allowed: {allowed}",
            )
            return None
        problem = unfit(other)
        if problem:
            self.errors.add(path, choice, problem)
            return None
        return choice


def _scope(residency: Residency, loc: str) -> str:
    return {"region": loc, "data-zone": f"the data zone of {loc}", "any": "anywhere"}[residency]


__all__ = ["CPU_SHARE_PER_SESSION", "DeploymentType", "ModelChecks", "sessions_per_replica"]
