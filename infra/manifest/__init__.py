"""The only parser of regions.yaml: typed, frozen objects with defaults applied, or every error at once.

- `source`: reads the file safely (size, depth, aliases, keys) and indexes lines;
- `schema`: the pydantic models and per-field rules; `leaks`: credentials where text belongs;
- `loader`: applies defaults and cross-field rules; `model`: the result; `names`: every name;
- `errors`: `file:line: path (got value): rule` messages.
"""

from infra.manifest.errors import ManifestError
from infra.manifest.loader import DEFAULT_MANIFEST, ROOT, load_manifest, parse_manifest
from infra.manifest.model import AiModels, Manifest, Region, global_stack_for, is_global_stack
from infra.manifest.names import (
    GLOBAL_KEY,
    GlobalNames,
    ResourceNames,
    container_app_name_problems,
    stack_prefix,
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
    "container_app_name_problems",
    "global_stack_for",
    "is_global_stack",
    "load_manifest",
    "parse_manifest",
    "stack_prefix",
]
