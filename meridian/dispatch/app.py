"""The HTTP service: LiveKit's standard token endpoint plus /healthz and /regions, and LiveKit's
webhooks (failover)."""

from __future__ import annotations

import asyncio
import datetime
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace

import structlog
from aiohttp import web

from meridian.contract import (
    DISPATCH_KEY_HEADER,
    FRONT_DOOR_ID_HEADER,
    WEBHOOK_PATH,
    region_route_prefix,
)
from meridian.dispatch.clientip import client_address
from meridian.dispatch.failover import FailoverService
from meridian.dispatch.health import HealthBoard, Prober
from meridian.dispatch.ratelimit import RateLimiter
from meridian.dispatch.region_table import (
    BlobTableSource,
    RegionTableRefresher,
    TableSource,
    region_identity,
)
from meridian.dispatch.request import (
    MAX_BODY_BYTES,
    RequestError,
    TokenRequest,
    parse_token_request,
)
from meridian.dispatch.routing import ClientHints, NoHealthyRegion, choose_region
from meridian.dispatch.settings import DispatchSettings
from meridian.dispatch.tokens import mint_join_token
from meridian.geo.latency import country_location
from meridian.region_table import RegionEntry

log = structlog.get_logger("dispatch")

TOKEN_PATHS = ("/", "/token")
BOARD_KEY = web.AppKey("board", HealthBoard)
PROBER_KEY = web.AppKey("prober", Prober)
REFRESHER_KEY = web.AppKey("region_table", RegionTableRefresher)
# At start, how long the first read of the published region table may hold up serving; past it
# the service starts on its environment's table and the refresh goes on in the background.
FIRST_TABLE_READ_SECONDS = 5.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# A token request is at most 16 KiB; a client that has not sent it within this many seconds is
# holding a connection open, not uploading.
BODY_READ_TIMEOUT_SECONDS = 10.0
FRONT_DOOR_REQUIRED = "requests must come through the Meridian Front Door entry URL"


def header_bytes(value: str) -> bytes:
    """A header value as the bytes that were sent (aiohttp decodes them as UTF-8 with
    surrogateescape, so a byte such as 0xFF survives the round trip instead of raising)."""
    return value.encode("utf-8", "surrogateescape")


def health_paths(region: str) -> tuple[str, str]:
    """Where this service answers health: ``/healthz`` and, for Front Door's per-region route,
    ``/regions/<region>/healthz``."""
    return "/healthz", f"{region_route_prefix(region)}/healthz"


def token_paths(region: str) -> tuple[str, ...]:
    """Where this service answers token requests: ``/`` and ``/token``, and the same under its
    per-region route (``/regions/<region>/token``), which the smoke test uses to reach exactly
    this region through Front Door."""
    prefix = region_route_prefix(region)
    return (*TOKEN_PATHS, f"{prefix}/", f"{prefix}/token")


def table_paths(region: str) -> tuple[str, str]:
    """Where this service answers its view of every region: ``/regions``, and
    ``/regions/<region>/regions`` so that each region's view can be read through Front Door."""
    return "/regions", f"{region_route_prefix(region)}/regions"


def _json(
    status: int, body: dict[str, object], headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(body, separators=(",", ":")),
        content_type="application/json",
        headers=headers,
    )


def _error(status: int, field: str | None, message: str, **extra: object) -> web.Response:
    return _json(status, {"error": message, "field": field, **extra})


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).isoformat(timespec="seconds")


class DispatchService:
    """Request handling for one serving region; state lives in the board and the limiter."""

    def __init__(
        self, settings: DispatchSettings, board: HealthBoard, limiter: RateLimiter
    ) -> None:
        self.settings = settings
        self.board = board
        self.limiter = limiter
        self.prober: Prober | None = None
        self._health_paths = health_paths(settings.region)
        self._token_paths = token_paths(settings.region)

    @staticmethod
    def _http_error(request: web.Request, exc: web.HTTPException) -> web.Response:
        allow = exc.headers.get("Allow")
        if exc.status == 405 and allow is not None:
            response = _error(
                405, "method", f"{request.method} is not allowed here; allowed: {allow}"
            )
            response.headers["Allow"] = allow
            return response
        return _error(exc.status, None, exc.reason)

    # --- CORS and client identity -------------------------------------------------------

    def _origin_allowed(self, origin: str) -> bool:
        return origin in self.settings.policy.cors_origins

    def _cors_headers(self, origin: str | None) -> dict[str, str]:
        if origin is None:
            return {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": "Retry-After",
            "Vary": "Origin",
        }

    def client_key(self, request: web.Request) -> str:
        """The client address the rate limit counts against (see dispatch.clientip)."""
        return client_address(
            request.headers,
            request.remote,
            behind_front_door=self.settings.front_door_id is not None,
            trusted_hops=self.settings.policy.trusted_proxy_hops,
        )

    def _from_front_door(self, request: web.Request) -> bool:
        expected = self.settings.front_door_id
        if expected is None:
            return True
        values = request.headers.getall(FRONT_DOOR_ID_HEADER, [])
        # compare_digest on bytes: constant time, and no error for non-ASCII input
        return len(values) == 1 and hmac.compare_digest(header_bytes(values[0]), expected.encode())

    # --- middleware ---------------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Refuse what did not come through Front Door (health excepted), answer every failure as
        JSON, and apply CORS to the token endpoint."""
        if request.path not in self._health_paths and not self._from_front_door(request):
            return _error(403, FRONT_DOOR_ID_HEADER, FRONT_DOOR_REQUIRED)
        origin = request.headers.get("Origin")
        is_token = request.path in self._token_paths
        if is_token and origin is not None and not self._origin_allowed(origin):
            return _error(403, "Origin", "origin not allowed")
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = self._http_error(request, exc)
        except Exception:
            log.exception("unhandled_error", path=request.path)
            response = _error(500, None, "internal error")
        if is_token:
            response.headers.update(self._cors_headers(origin))
        return response

    # --- handlers -----------------------------------------------------------------------

    async def preflight(self, request: web.Request) -> web.Response:
        """CORS preflight for the token endpoint (the origin was checked by the middleware)."""
        if request.headers.get("Access-Control-Request-Method", "").upper() != "POST":
            return _error(400, "Access-Control-Request-Method", "only POST is allowed")
        allowed_headers = ["Content-Type"]
        if self.settings.shared_secret is not None:
            allowed_headers.append(DISPATCH_KEY_HEADER)
        return web.Response(
            status=204,
            headers={
                "Access-Control-Allow-Methods": "POST, OPTIONS",
                "Access-Control-Allow-Headers": ", ".join(allowed_headers),
                "Access-Control-Max-Age": "600",
            },
        )

    def _hints(self, request: web.Request, parsed: TokenRequest) -> ClientHints:
        country = None
        where = None
        header = self.settings.policy.country_header
        if header and parsed.region is None and parsed.location is None:
            code = request.headers.get(header, "").strip()
            # ASCII letters only, checked before upper(): "ß".upper() is "SS".
            code = code.upper() if code.isascii() and code.isalpha() else ""
            # Edge networks send placeholders (XX unknown, T1 Tor); those mean "no location".
            where = country_location(code) if len(code) == 2 else None
            country = code if where is not None else None
        return ClientHints(
            region=parsed.region,
            location=parsed.location,
            country=country,
            country_location=where,
        )

    async def token(self, request: web.Request) -> web.Response:
        """LiveKit's standard token endpoint, answering 201 with the region-tagged dispatch."""
        wait = self.limiter.acquire(self.client_key(request))
        if wait > 0:
            retry = max(1, int(wait + 0.999))
            return _json(
                429,
                {"error": "rate limit exceeded", "field": None, "retry_after_seconds": retry},
                headers={"Retry-After": str(retry)},
            )
        secret = self.settings.shared_secret
        if secret is not None:
            given = header_bytes(request.headers.get(DISPATCH_KEY_HEADER, ""))
            if not hmac.compare_digest(given, secret.get_secret_value().encode()):
                return _error(401, DISPATCH_KEY_HEADER, "missing or wrong shared secret")
        try:
            body = await self._read_body(request)
            parsed = parse_token_request(body, self.settings)
        except RequestError as exc:
            return _error(exc.status, exc.field, exc.message)

        try:
            decision = choose_region(self.settings, self.board, self._hints(request, parsed))
        except NoHealthyRegion as exc:
            retry = str(max(1, int(self.settings.policy.probes.interval_seconds)))
            return _json(
                503,
                {"error": str(exc), "field": None, "regions": self._states()},
                headers={"Retry-After": retry},
            )
        entry = self.settings.entry(decision.region)
        tagged_name = self.settings.tagged_agent_name(decision.region)
        room = parsed.room_name or f"{self.settings.agent_name}-{secrets.token_hex(6)}"
        identity = parsed.participant_identity or f"user-{secrets.token_hex(6)}"
        participant_token = mint_join_token(
            self.settings,
            room=room,
            identity=identity,
            tagged_agent_name=tagged_name,
            name=parsed.participant_name,
            metadata=parsed.participant_metadata,
            attributes=parsed.participant_attributes,
            agent_metadata=parsed.agent_metadata,
        )
        log.debug("token_issued", region=decision.region, reason=decision.reason)
        return _json(
            201,
            {
                "server_url": entry.livekit_url,
                "participant_token": participant_token,
                "region": decision.region,
                "agent_name": tagged_name,
                "room_name": room,
                "reason": decision.reason,
            },
        )

    async def _read_body(self, request: web.Request) -> bytes:
        """The request body, within the size limit and the read timeout."""
        try:
            async with asyncio.timeout(BODY_READ_TIMEOUT_SECONDS):
                return await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise RequestError(413, "body", f"must be at most {MAX_BODY_BYTES} bytes") from None
        except TimeoutError:
            log.info("body_read_timeout", client=self.client_key(request))
            raise RequestError(
                408, "body", f"was not received within {BODY_READ_TIMEOUT_SECONDS:g} seconds"
            ) from None
        except asyncio.CancelledError:
            # aiohttp cancels the handler when the client goes away mid-body: one line, no trace.
            log.info("client_aborted", client=self.client_key(request))
            raise

    def update_regions(self, regions: tuple[RegionEntry, ...]) -> None:
        """Serve from a new region table: route, probe and list exactly its regions."""
        self.settings = replace(self.settings, regions=regions)
        self.board.sync(self.settings)
        if self.prober is not None:
            self.prober.update_settings(self.settings)

    def _states(self) -> dict[str, str]:
        return {region: self.board.get(region).state for region in self.board.regions()}

    async def healthz(self, request: web.Request) -> web.Response:
        """This service is serving (always 200); ``worker`` reports the local agent worker."""
        own = self.board.get(self.settings.region)
        worker: dict[str, object] = {
            "state": own.state,
            "reason": own.reason,
            "last_check": _iso(own.last_check),
        }
        if own.detail:
            worker.update(own.detail)
        status = "ok" if own.state == "up" else "degraded"
        return _json(200, {"status": status, "region": self.settings.region, "worker": worker})

    async def regions(self, request: web.Request) -> web.Response:
        """Every deployed region's state, last check and reason."""
        rows = []
        for entry in self.settings.regions:
            health = self.board.get(entry.region)
            rows.append(
                {
                    "region": entry.region,
                    "location": entry.location,
                    "state": health.state,
                    "last_check": _iso(health.last_check),
                    # probe reasons are fixed phrases: nothing a worker or peer sent
                    "reason": health.reason,
                }
            )
        return _json(200, {"serving_region": self.settings.region, "regions": rows})


def create_app(
    settings: DispatchSettings,
    *,
    board: HealthBoard | None = None,
    limiter: RateLimiter | None = None,
    probe: bool = True,
    table_source: TableSource | None = None,
) -> web.Application:
    """Build the aiohttp application; with ``probe`` it probes regions in the background (and
    serves once the first round is done), without it every region is routable as rendered. With
    a published region table (`settings.regions_url`, or `table_source`) it reads it before it
    serves and keeps its table current from it."""
    policy = settings.policy
    board = board or HealthBoard.for_settings(settings, probing=probe)
    if limiter is None:
        limiter = RateLimiter(policy.rate_per_minute, policy.rate_burst)
    service = DispatchService(settings, board, limiter)
    app = web.Application(middlewares=[service.middleware], client_max_size=MAX_BODY_BYTES)
    app[BOARD_KEY] = board
    for path in token_paths(settings.region):
        app.router.add_post(path, service.token)
        app.router.add_route("OPTIONS", path, service.preflight)
    for path in health_paths(settings.region):
        app.router.add_get(path, service.healthz, allow_head=True)
    for path in table_paths(settings.region):
        app.router.add_get(path, service.regions)
    failover = FailoverService(lambda: service.settings, board)
    app.router.add_post(WEBHOOK_PATH, failover.webhook)

    async def stop_failover(_: web.Application) -> None:
        await failover.stop()

    app.on_cleanup.append(stop_failover)

    if policy.country_header:
        country_location("US")  # load the country table before the first request, not during it

    if table_source is None and settings.regions_url:
        table_source = BlobTableSource(
            settings.regions_url, region_identity(settings.azure_client_id)
        )
    if table_source is not None:
        refresher = RegionTableRefresher(
            table_source,
            settings.region,
            settings.regions,
            service.update_regions,
            settings.regions_refresh_seconds,
        )
        app[REFRESHER_KEY] = refresher

        async def start_refresh(_: web.Application) -> None:
            # Registered before the prober's start, so its first round covers the whole table.
            await refresher.start(FIRST_TABLE_READ_SECONDS)

        async def stop_refresh(_: web.Application) -> None:
            await refresher.stop()

        app.on_startup.append(start_refresh)
        app.on_cleanup.append(stop_refresh)

    if probe:
        prober = Prober(settings, board)
        service.prober = prober
        app[PROBER_KEY] = prober

        async def start(_: web.Application) -> None:
            # aiohttp starts listening after the startup hooks: the replica takes no request
            # (and fails its readiness probe) until the first round has given every region a state
            await prober.start()

        async def stop(_: web.Application) -> None:
            await prober.stop()

        app.on_startup.append(start)
        app.on_cleanup.append(stop)
    return app
