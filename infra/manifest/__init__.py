"""The only parser of regions.yaml: typed, frozen objects with defaults applied, or every error at once.

- `source`: reads the file safely (size, depth, aliases, keys) and indexes lines;
- `schema`: the pydantic models and per-field rules; `leaks`: credentials where text belongs;
- `loader`: applies defaults and cross-field rules; `model`: the result and derived names;
- `errors`: `file:line: path (got value): rule` messages.
"""

from infra.manifest.errors import ManifestError
from infra.manifest.loader import DEFAULT_MANIFEST, ROOT, load_manifest, parse_manifest
from infra.manifest.model import (
    GLOBAL_KEY,
    AiModels,
    GlobalNames,
    Manifest,
    Region,
    ResourceNames,
    global_stack_for,
    is_global_stack,
)
from infra.manifest.schema import (
    AgentSettings,
    DispatchSection,
    GlobalSettings,
    ModelSpec,
    Probe,
    RegionSettings,
    Resources,
)

__all__ = [
    "DEFAULT_MANIFEST",
    "GLOBAL_KEY",
    "ROOT",
    "AgentSettings",
    "AiModels",
    "DispatchSection",
    "GlobalNames",
    "GlobalSettings",
    "Manifest",
    "ManifestError",
    "ModelSpec",
    "Probe",
    "Region",
    "RegionSettings",
    "ResourceNames",
    "Resources",
    "global_stack_for",
    "is_global_stack",
    "load_manifest",
    "parse_manifest",
]
