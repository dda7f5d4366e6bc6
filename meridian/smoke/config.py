"""The smoke test's configuration: which regions, their URLs, the credentials and the limits."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from infra.manifest import Manifest, load_manifest
from meridian.contract import LIVEKIT_SECRETS, MIN_API_SECRET_LENGTH, Env, region_route_prefix
from meridian.smoke.run import Credentials, Limits, Target
from meridian.transport import transport_problem

_REGION_URL = re.compile(r"^(?P<region>[a-z0-9-]+)=(?P<url>\S+)$")


class ConfigError(Exception):
    """A usage or configuration problem; str() is the one line shown to the user."""


def configure(
    manifest_path: Path,
    region: str | None,
    env: Mapping[str, str],
    *,
    dispatch_urls: Sequence[str] = (),
    stack_outputs: Sequence[Path] = (),
    global_url: str | None = None,
    skip_dispatch: bool = False,
    stdin: TextIO | None = None,
    limits: Limits | None = None,
) -> tuple[list[Target], Credentials, Limits]:
    """The targets (one region, or every region when `region` is None), credentials and limits.

    `dispatch_urls` are URLs or REGION=URL; `stack_outputs` are `pulumi stack output --json` files
    ('-' reads `stdin`) of region stacks or of the global stack; `global_url` is the Front Door
    entry URL, which reaches each region at its route. Every target needs a dispatch URL from
    one of these or regions.yaml, unless `skip_dispatch`. Raises ConfigError or ManifestError
    with the message for the user.
    """
    limits = limits or Limits()
    for flag, seconds in (
        ("timeout", limits.total),
        ("agent-timeout", limits.agent),
        ("reply-timeout", limits.reply),
    ):
        if seconds <= 0:
            raise ConfigError(f"--{flag} must be a positive number of seconds")
    manifest = load_manifest(manifest_path)
    if region is None:
        keys = list(manifest.regions)
    elif region in manifest.regions:
        keys = [region]
    else:
        raise ConfigError(
            f"--region {region!r} is not a region in {manifest_path};"
            f" allowed: {', '.join(manifest.regions)}"
        )
    urls, revisions = _from_sources(
        dispatch_urls, stack_outputs, global_url, manifest, keys, stdin or sys.stdin
    )
    if skip_dispatch:
        urls = {}
    else:
        # regions.yaml may name a region's dispatch URL; flags and stack outputs win.
        urls = {k: urls.get(k) or manifest.regions[k].dispatch_url for k in keys}
        missing = [k for k, url in urls.items() if url is None]
        if missing:
            raise ConfigError(_NO_DISPATCH_URL.format(regions=", ".join(missing)))
    credentials = credentials_from_env(env)
    override = env.get(Env.LIVEKIT_URL, "").strip() or None
    if override is not None and (problem := transport_problem(override, ("wss", "https"))):
        raise ConfigError(
            f"environment variable {Env.LIVEKIT_URL} must be {problem}, got {override!r}"
        )
    targets = []
    for key in keys:
        entry = manifest.regions[key]
        targets.append(
            Target(
                region=key,
                location=entry.location,
                agent_name=entry.tagged_agent_name,
                resource_group=entry.names.resource_group,
                app_name=entry.names.app,
                latency_budget_ms=entry.latency_budget_ms,
                livekit_url=override or entry.livekit_url,
                dispatch_url=urls.get(key),
                revision=revisions.get(key),
            )
        )
    return targets, credentials, limits


def credentials_from_env(env: Mapping[str, str]) -> Credentials:
    """The LiveKit key pair and the dispatch service's optional shared secret."""
    missing = [n for n in LIVEKIT_SECRETS if not env.get(n, "").strip()]
    if missing:
        raise ConfigError(
            f"environment variable(s) {' and '.join(missing)} must be set to a LiveKit API key pair"
            " with room admin rights (LiveKit Cloud: Settings > API keys)"
        )
    api_secret = env[Env.LIVEKIT_API_SECRET].strip()
    if len(api_secret) < MIN_API_SECRET_LENGTH:
        raise ConfigError(
            f"environment variable {Env.LIVEKIT_API_SECRET} is {len(api_secret)} characters;"
            f" a LiveKit API secret has at least {MIN_API_SECRET_LENGTH} (join tokens are HS256,"
            " which needs a 256-bit key): use the secret of the project's API key pair"
        )
    return Credentials(
        api_key=env[Env.LIVEKIT_API_KEY].strip(),
        api_secret=api_secret,
        dispatch_secret=env.get(Env.DISPATCH_SHARED_SECRET, "").strip() or None,
    )


_NO_DISPATCH_URL = (
    "no dispatch URL for {regions}: give each region's --stack-outputs, the global stack's"
    " (pulumi stack output --json -s global), --global-url URL or --dispatch-url REGION=URL;"
    " or --skip-dispatch to test only the agent"
)


@dataclass(frozen=True)
class _StackOutputs:
    """What the smoke test reads from one stack's outputs; `region` is None for the global stack."""

    region: str | None
    dispatch_url: str | None = None
    revision: str | None = None


def _from_sources(
    given_urls: Sequence[str],
    stack_outputs: Sequence[Path],
    global_url: str | None,
    manifest: Manifest,
    keys: list[str],
    stdin: TextIO,
) -> tuple[dict[str, str], dict[str, str]]:
    """Each region's dispatch URL and expected revision. For the URL, --dispatch-url wins over a
    region stack's outputs, which win over the global URL's route for that region."""
    urls: dict[str, str] = {}
    revisions: dict[str, str] = {}
    entry = _http_url("--global-url", global_url) if global_url is not None else None
    for path in stack_outputs:
        read = _read_stack_outputs(path, manifest, stdin)
        if read.region is None:
            entry = read.dispatch_url
            continue
        if read.dispatch_url is not None:
            urls[read.region] = read.dispatch_url
        if read.revision is not None:
            revisions[read.region] = read.revision
    if entry is not None:
        for key in manifest.regions:
            urls.setdefault(key, f"{entry}{region_route_prefix(key)}")
    for given in given_urls:
        match = _REGION_URL.match(given)
        if match:
            region, url = match["region"], match["url"]
            if region not in manifest.regions:
                raise ConfigError(
                    f"--dispatch-url {given!r}: {region!r} is not a region;"
                    f" allowed: {', '.join(manifest.regions)}"
                )
        elif len(keys) == 1:
            region, url = keys[0], given
        else:
            raise ConfigError(f"--dispatch-url {given!r}: with --all, write REGION=URL")
        urls[region] = _http_url(f"--dispatch-url {given!r}", url)
    return (
        {k: v for k, v in urls.items() if k in keys},
        {k: v for k, v in revisions.items() if k in keys},
    )


def _read_stack_outputs(path: Path, manifest: Manifest, stdin: TextIO) -> _StackOutputs:
    """A region stack's region, dispatch URL and latest revision; or the global stack's URL."""
    name = "stdin" if str(path) == "-" else str(path)
    try:
        text = stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--stack-outputs {name}: cannot read it: {exc.strerror}") from None
    try:
        outputs: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"--stack-outputs {name}: not JSON ({exc.msg} at line {exc.lineno});"
            " expected the output of `pulumi stack output --json`"
        ) from None
    if not isinstance(outputs, dict):
        raise ConfigError(f"--stack-outputs {name}: expected a JSON object of stack outputs")
    region = outputs.get("region")
    if region is None and isinstance(outputs.get("globalUrl"), str):
        url = _http_url(f"--stack-outputs {name}: output 'globalUrl'", outputs["globalUrl"])
        return _StackOutputs(None, url)
    if not isinstance(region, str) or region not in manifest.regions:
        raise ConfigError(
            f"--stack-outputs {name}: output 'region' is {region!r}, not a region in"
            f" {manifest.path.name}; allowed: {', '.join(manifest.regions)}"
        )
    revision = outputs.get("latestRevision")
    if revision is not None and (not isinstance(revision, str) or not revision.strip()):
        raise ConfigError(
            f"--stack-outputs {name}: output 'latestRevision' must be a revision name"
        )
    # Behind the global Front Door, a region's dispatch answers token requests only through it:
    # its own route on the global URL reaches exactly this region.
    global_url = outputs.get("globalUrl")
    if global_url is not None:
        if not isinstance(global_url, str):
            raise ConfigError(f"--stack-outputs {name}: output 'globalUrl' must be a URL string")
        url = _http_url(f"--stack-outputs {name}: output 'globalUrl'", global_url)
        return _StackOutputs(region, f"{url}{region_route_prefix(region)}", revision)
    url = outputs.get("dispatchUrl")
    if url is None:
        return _StackOutputs(region, None, revision)
    if not isinstance(url, str):
        raise ConfigError(f"--stack-outputs {name}: output 'dispatchUrl' must be a URL string")
    return _StackOutputs(
        region, _http_url(f"--stack-outputs {name}: output 'dispatchUrl'", url), revision
    )


def _http_url(source: str, url: str) -> str:
    if problem := transport_problem(url, ("https",)):
        raise ConfigError(f"{source}: must be {problem}, got {url!r}")
    return url.rstrip("/")
