"""The region table a dispatch service routes by, kept current from the one the global layer
publishes.

The global stack writes every region into a blob (`regions.json` in its storage account) and
grants each region's identity read access to it. Dispatch starts with the table in its
environment (`MERIDIAN_REGIONS`: its own region), reads the published one before it serves and
then every `regions_refresh_seconds`, and applies each new table it can parse. A read that fails,
or a table that does not parse or lacks the serving region, keeps the last good one and is
logged. So adding a region is a global `up` and the new region's stack: existing regions learn of
it on their own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Protocol

import aiohttp
import structlog
from azure.core.credentials_async import AsyncTokenCredential

from meridian.dispatch.settings import SettingsError, parse_regions
from meridian.region_table import RegionEntry

log = structlog.get_logger("dispatch.regions")

# The Blob service REST version the read speaks (Entra bearer tokens need 2017-11-09 or later),
# and the Entra scope of Azure Storage.
STORAGE_API_VERSION = "2023-11-03"
STORAGE_SCOPE = "https://storage.azure.com/.default"
# A region table is a few hundred bytes per region; anything much larger is not one.
MAX_TABLE_BYTES = 256 * 1024
READ_TIMEOUT_SECONDS = 5.0


class TableReadError(Exception):
    """The published table could not be read; str() is one line for the log."""


class TableSource(Protocol):
    """Where the published table comes from."""

    async def read(self) -> str | None:
        """The table's JSON, or None when it has not changed since the last read."""
        ...

    def forget_version(self) -> None:
        """Read the whole table next time, even if it has not changed."""
        ...

    async def close(self) -> None: ...


def region_identity(client_id: str | None) -> AsyncTokenCredential:
    """The region's managed identity in Azure (AZURE_CLIENT_ID), or a developer's `az login` on a
    laptop: azure-identity's default chain, which asks for nothing interactively."""
    from azure.identity.aio import DefaultAzureCredential

    return DefaultAzureCredential(managed_identity_client_id=client_id)


def _one_line(exc: BaseException) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__


async def _read_at_most(resp: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The body, or None as soon as it passes `limit` bytes."""
    body = bytearray()
    async for chunk in resp.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


class BlobTableSource:
    """Reads the published table from Azure Blob Storage with an Entra token for the region's
    identity (azure-identity), sending the last ETag so an unchanged table costs a 304."""

    def __init__(
        self,
        url: str,
        credential: AsyncTokenCredential,
        *,
        timeout: float = READ_TIMEOUT_SECONDS,
    ) -> None:
        self.url = url
        self.credential = credential
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._etag: str | None = None

    async def read(self) -> str | None:
        """The table's JSON, or None when it has not changed since the last read."""
        try:
            token = await self.credential.get_token(STORAGE_SCOPE)
        except Exception as exc:  # azure-identity raises several types; each is a failed read
            raise TableReadError(f"no token for Azure Storage: {_one_line(exc)}") from None
        headers = {"Authorization": f"Bearer {token.token}", "x-ms-version": STORAGE_API_VERSION}
        if self._etag:
            headers["If-None-Match"] = self._etag
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.get(
                self.url,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                allow_redirects=False,
            ) as resp:
                if resp.status == 304:
                    return None
                if resp.status != 200:
                    # The storage error code names the cause (AuthorizationPermissionMismatch:
                    # the grant has not propagated; BlobNotFound: no global `up` has published).
                    code = resp.headers.get("x-ms-error-code", "")
                    raise TableReadError(f"{self.url} answered HTTP {resp.status} {code}".strip())
                body = await _read_at_most(resp, MAX_TABLE_BYTES)
                if body is None:
                    raise TableReadError(f"{self.url} answered more than {MAX_TABLE_BYTES} bytes")
                etag = resp.headers.get("ETag")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TableReadError(f"{self.url} unreachable: {type(exc).__name__}") from None
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise TableReadError(f"{self.url} is not UTF-8") from None
        self._etag = etag
        return text

    def forget_version(self) -> None:
        """Read the whole table next time (after a table that was refused)."""
        self._etag = None

    async def close(self) -> None:
        """Close the HTTP session and the credential's own transport."""
        if self._session is not None:
            await self._session.close()
        await self.credential.close()


class RegionTableRefresher:
    """Reads `source` at start and every `interval` seconds and hands each new valid table to
    `apply`; on any failure it keeps the table it has and logs why."""

    def __init__(
        self,
        source: TableSource,
        serving_region: str,
        current: tuple[RegionEntry, ...],
        apply: Callable[[tuple[RegionEntry, ...]], None],
        interval: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.source = source
        self.serving_region = serving_region
        self.table = current
        self.apply = apply
        self.interval = interval
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None

    async def refresh_once(self) -> bool:
        """One read; True when a new table was applied."""
        try:
            raw = await self.source.read()
        except TableReadError as exc:
            self._kept(str(exc))
            return False
        except Exception as exc:
            self._kept(_one_line(exc))
            return False
        if raw is None:
            return False
        try:
            table = parse_regions(raw, self.serving_region)
        except SettingsError as exc:
            # Read it whole again next time rather than trust an ETag for a refused table.
            self.source.forget_version()
            log.warning("region_table_refused", reason=str(exc), kept=self._keys())
            return False
        if table == self.table:
            return False
        before, after = set(self._keys()), {e.region for e in table}
        self.table = table
        self.apply(table)
        log.info(
            "region_table_updated",
            regions=self._keys(),
            added=sorted(after - before),
            removed=sorted(before - after),
        )
        return True

    def _kept(self, reason: str) -> None:
        log.warning("region_table_refresh_failed", reason=reason, kept=self._keys())

    def _keys(self) -> list[str]:
        return [e.region for e in self.table]

    async def _run(self) -> None:
        while True:
            await self._sleep(self.interval)
            try:
                await self.refresh_once()
            except Exception:  # a bug in applying a table must not end the refreshing
                log.exception("region_table_refresh_crashed")

    async def start(self, first_read_timeout: float) -> None:
        """Read once, waiting at most `first_read_timeout` (past it the service starts on the
        table it has), then keep refreshing in the background."""
        try:
            async with asyncio.timeout(first_read_timeout):
                await self.refresh_once()
        except TimeoutError:
            self._kept(f"no answer within {first_read_timeout:g} s")
        self._task = asyncio.create_task(self._run(), name="dispatch-region-table")

    async def stop(self) -> None:
        """Stop refreshing and close the source."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.source.close()
