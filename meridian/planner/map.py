"""The planner's world map: users, regions, and which region serves whom."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from meridian.geo.regions import azure_regions
from meridian.planner.population import User


def plot_map(users: Sequence[User], assignment: Sequence[str], title: str, out: Path) -> None:
    """Write a PNG world map (equirectangular) of users, regions and who is served by which."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    regions = azure_regions()
    used = sorted(set(assignment))
    cmap = plt.get_cmap("tab10" if len(used) <= 10 else "tab20")
    color = {name: cmap(i % cmap.N) for i, name in enumerate(used)}
    weights = np.array([u.weight for u in users], dtype=float)
    sizes = 2 + 60 * np.sqrt(weights / weights.max())

    fig, ax = plt.subplots(figsize=(12, 5.2), dpi=100)
    for lon in range(-180, 181, 30):
        ax.axvline(lon, color="#dddddd", lw=0.5, zorder=0)
    for lat in range(-90, 91, 30):
        ax.axhline(lat, color="#dddddd", lw=0.5, zorder=0)
    from matplotlib.collections import LineCollection

    user_xy = np.array([(u.location.longitude, u.location.latitude) for u in users])
    site_xy = np.array([(regions[r].longitude, regions[r].latitude) for r in assignment])
    # A user across the antimeridian from its region gets a line leaving the map's edge,
    # not one crossing the whole world.
    site_xy[:, 0] += 360.0 * np.round((user_xy[:, 0] - site_xy[:, 0]) / 360.0)
    colors = [color[r] for r in assignment]
    # Thin, faint lines keep thousands of users readable; a handful can afford bold ones.
    crowded = len(users) > 200
    ax.add_collection(
        LineCollection(
            np.stack([user_xy, site_xy], axis=1),
            colors=colors,
            linewidths=0.3 if crowded else 1.0,
            alpha=0.25 if crowded else 0.6,
        )
    )
    ax.scatter(user_xy[:, 0], user_xy[:, 1], s=sizes, c=colors, alpha=0.6, linewidths=0, zorder=2)
    for name in used:
        site = regions[name]
        ax.scatter(
            site.longitude,
            site.latitude,
            marker="*",
            s=260,
            color=color[name],
            edgecolors="black",
            zorder=3,
            label=name,
        )
        ax.annotate(
            name, (site.longitude, site.latitude), xytext=(6, 6), textcoords="offset points"
        )
    ax.set_xlim(-180, 180)
    ax.set_ylim(-60, 80)
    ax.set_aspect("equal")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize=8, title="region")
    fig.tight_layout()
    fig.savefig(out, format="png")
    plt.close(fig)
