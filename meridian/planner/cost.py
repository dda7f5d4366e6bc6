"""Monthly cost of running the agent in a set of regions: the Container Apps (Consumption) agent apps,
and the global layer (registry replicas, Front Door, Key Vault) that every region set also pays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meridian.aca_limits import aca_limits, global_prices

HOURS_PER_MONTH = 730
DAYS_PER_MONTH = HOURS_PER_MONTH / 24


@dataclass(frozen=True)
class ConsumptionPrices:
    """Pay-as-you-go Consumption rates in USD and the monthly free grant per subscription."""

    vcpu_active_per_second: float
    vcpu_idle_per_second: float
    memory_active_per_gib_second: float
    memory_idle_per_gib_second: float
    free_vcpu_seconds: float
    free_gib_seconds: float
    source: str


@dataclass(frozen=True)
class RegionFootprint:
    """One region's agent app size: replicas and per-replica CPU and memory."""

    min_replicas: int
    max_replicas: int
    cpu: float
    memory_gib: float


@dataclass(frozen=True)
class MonthlyCost:
    """USD per month of the agent apps with min replicas idle, min replicas active, and max
    replicas active; and of the global layer, which does not scale with load."""

    idle_floor_usd: float
    min_active_usd: float
    max_active_usd: float
    global_layer_usd: float


@dataclass(frozen=True)
class GlobalLayerCost:
    """USD per month of the global stack for a set of regions, by part."""

    registry_usd: float
    front_door_usd: float
    key_vault_usd: float
    fallback_usd: float

    @property
    def total_usd(self) -> float:
        return self.registry_usd + self.front_door_usd + self.key_vault_usd + self.fallback_usd


def global_layer_cost(
    locations: int,
    token_requests_per_month: float = 0.0,
    prices: Mapping[str, Any] | None = None,
) -> GlobalLayerCost:
    """The global layer's monthly list price for regions in `locations` distinct Azure locations
    (the registry's home is one of them), serving `token_requests_per_month` through Front Door.
    Front Door's own health probes count as requests too: one per origin per interval."""
    p = global_prices() if prices is None else prices
    fd = p["front_door_standard"]
    return GlobalLayerCost(
        registry_usd=p["container_registry_premium"]["usd_per_day"] * DAYS_PER_MONTH * locations,
        front_door_usd=fd["base_usd_per_month"]
        + token_requests_per_month / 10_000 * fd["requests_usd_per_10k"],
        # Secret reads on revision start and refresh: a few thousand a month per region.
        key_vault_usd=locations
        * 5_000
        / 10_000
        * p["key_vault_standard"]["usd_per_10k_operations"],
        fallback_usd=p["storage_static_website"]["usd_per_month"],
    )


def load_prices(limits: Mapping[str, Any] | None = None) -> ConsumptionPrices:
    """Consumption prices from the Container Apps data file (meridian/data/aca_limits.json, via
    `meridian.aca_limits`) with its recorded source; `limits` stands in for that file's content."""
    data = aca_limits() if limits is None else limits
    pricing = data["consumption_pricing_usd_payg"]
    grant = pricing["free_grant_per_subscription_month"]
    return ConsumptionPrices(
        vcpu_active_per_second=float(pricing["vcpu_active_per_second"]),
        vcpu_idle_per_second=float(pricing["vcpu_idle_per_second"]),
        memory_active_per_gib_second=float(pricing["memory_active_per_gib_second"]),
        memory_idle_per_gib_second=float(pricing["memory_idle_per_gib_second"]),
        free_vcpu_seconds=float(grant["vcpu_seconds"]),
        free_gib_seconds=float(grant["gib_seconds"]),
        source=f"aca_limits.json: {pricing['note']}",
    )


def _usd(
    vcpu_seconds: float, gib_seconds: float, vcpu_rate: float, gib_rate: float, p: ConsumptionPrices
) -> float:
    # The free grant is per subscription and month, so it is taken off the whole set once.
    return (
        max(vcpu_seconds - p.free_vcpu_seconds, 0.0) * vcpu_rate
        + max(gib_seconds - p.free_gib_seconds, 0.0) * gib_rate
    )


def monthly_cost(
    footprints: Sequence[RegionFootprint], prices: ConsumptionPrices, hours: float = HOURS_PER_MONTH
) -> MonthlyCost:
    """Cost of the agent apps of a region set for one month, in three replica scenarios."""
    seconds = hours * 3600.0

    def totals(replicas: Sequence[int]) -> tuple[float, float]:
        vcpu = sum(n * f.cpu for n, f in zip(replicas, footprints, strict=True)) * seconds
        gib = sum(n * f.memory_gib for n, f in zip(replicas, footprints, strict=True)) * seconds
        return vcpu, gib

    min_vcpu, min_gib = totals([f.min_replicas for f in footprints])
    max_vcpu, max_gib = totals([f.max_replicas for f in footprints])
    return MonthlyCost(
        global_layer_usd=global_layer_cost(len(footprints)).total_usd,
        idle_floor_usd=_usd(
            min_vcpu,
            min_gib,
            prices.vcpu_idle_per_second,
            prices.memory_idle_per_gib_second,
            prices,
        ),
        min_active_usd=_usd(
            min_vcpu,
            min_gib,
            prices.vcpu_active_per_second,
            prices.memory_active_per_gib_second,
            prices,
        ),
        max_active_usd=_usd(
            max_vcpu,
            max_gib,
            prices.vcpu_active_per_second,
            prices.memory_active_per_gib_second,
            prices,
        ),
    )
