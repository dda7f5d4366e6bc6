"""The only parser of regions.yaml: typed, frozen objects with defaults applied, or every error at once.

- `source`: reads the file safely (size, depth, aliases, keys) and indexes lines;
- `schema`: the pydantic models and per-field rules; `leaks`: credentials where text belongs;
- `loader`: applies defaults and cross-field rules; `model`: the result and derived names;
- `errors`: `file:line: path (got value): rule` messages.
"""

from infra.manifest.errors import ManifestError
from infra.manifest.loader import DEFAULT_MANIFEST, ROOT, load_manifest, parse_manifest
from infra.manifest.model import Manifest, Region, ResourceNames
from infra.manifest.schema import (
    AgentSettings,
    DispatchSection,
    ModelSpec,
    Probe,
    RegionSettings,
    Resources,
)

__all__ = [
    "DEFAULT_MANIFEST",
    "ROOT",
    "AgentSettings",
    "DispatchSection",
    "Manifest",
    "ManifestError",
    "ModelSpec",
    "Probe",
    "Region",
    "RegionSettings",
    "ResourceNames",
    "Resources",
    "load_manifest",
    "parse_manifest",
]
