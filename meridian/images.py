"""Container image references: what counts as pinned, for the manifest, the program and releases."""

from __future__ import annotations

import re
from typing import Final

IMAGE_REF: Final = re.compile(
    r"^(?P<repo>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
# Tags that name no particular build: every region could run something different.
FLOATING_TAGS: Final = ("latest", "stable", "main", "master", "dev", "edge", "nightly")
# What `make synth` and `pulumi preview` show for a region before any agent image is built:
# plainly not an image (the .invalid top-level domain never resolves, RFC 2606).
UNBUILT_IMAGE: Final = "no-image-built-yet.invalid/meridian-agent:build-and-push-it-first"
# Images nothing builds: the unbuilt placeholder, and the default of early regions.yaml files.
PLACEHOLDER_IMAGES: Final = frozenset({UNBUILT_IMAGE, "ghcr.io/meridian-voice/agent:0.1.0"})


def is_placeholder_image(value: str | None) -> bool:
    """Whether `value` names no built image (unset, or a placeholder nothing builds)."""
    return value is None or value in PLACEHOLDER_IMAGES


def pinned_image(value: str, *, allow_floating: bool = False, require_digest: bool = False) -> str:
    """`value` if it is an image reference pinned to a build, else a ValueError saying why."""
    match = IMAGE_REF.fullmatch(value)
    if not match:
        raise ValueError(
            "image must be a reference such as registry/repo:tag or registry/repo@sha256:<64 hex>"
        )
    if require_digest and not match["digest"]:
        raise ValueError(
            f"{value!r} names a tag; a release deploys one build everywhere, so give its digest:"
            " registry/repo@sha256:<64 hex> (docker buildx prints it, or"
            " `docker inspect --format '{{index .RepoDigests 0}}' <image>`)"
        )
    if not match["tag"] and not match["digest"]:
        raise ValueError("image must pin a tag or a digest, so every region runs the same build")
    if match["tag"] in FLOATING_TAGS and not match["digest"] and not allow_floating:
        raise ValueError(
            f"image tag {match['tag']!r} moves between builds, so regions could run different"
            " code; pin a version tag or a digest (or set agent.allow_floating_tag: true while"
            " trying things out)"
        )
    return value


def image_digest(value: str) -> str | None:
    """The sha256 digest an image reference pins, if any."""
    match = IMAGE_REF.fullmatch(value)
    return match["digest"] if match else None
