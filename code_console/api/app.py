"""The HTTP API for the verification service: the spec's routes on the CodeService façade, in the
original service's envelope.

Every answer but /metrics and /heartbeat is `{"data": ..., "meta": {"timestamp", "correlationId"}}`;
errors are `{"error": {"status", "message", "payload", "name", "code"}, "meta": {...}}` (errors.py).
Handlers parse the request, call CodeService in a worker thread (every core call blocks on MongoDB
or S3, so none runs on the event loop) and render the result. The business rules, including "only
a supreme principal may act", live in the core.
"""

from __future__ import annotations

import json

import functools
import logging
import threading
import time
from typing import Any, Callable

import anyio
from fastapi import APIRouter, Depends, FastAPI, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPBearer
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from code_console import __version__
from code_console.api import docs, errors, schema
from code_console.api.auth import TokenVerifier, bearer_token, mint_token
from code_console.api.bodies import JsonReader, spool
from code_console.api.errors import Named
from code_console.api.logs import correlation_id_from, request_id_var
from code_console.api.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from code_console.api.metrics import Metrics
from code_console.config import Settings
from code_console.core.audit import MAX_LIMIT as MAX_EVENTS_PER_PAGE
from code_console.core.errors import CodeConsoleError, Forbidden, InvalidInput, StoreUnavailable
from code_console.core.export import ExportFormat, render
from code_console.core.models import Channel, Principal
from code_console.core.service import CodeService
from code_console.core.uri import redact_uri

log = logging.getLogger("code_console.api")

# Query parameters that would carry a token in the URL, where proxies and logs keep it.
TOKEN_QUERY_PARAMETERS = ("access_token", "token", "jwt")
DEV_TOKEN_TTL_SECONDS = 3600


def normalize_prefix(prefix: str | None) -> str:
    prefix = (prefix or "").strip().strip("/")
    return f"/{prefix}" if prefix else ""


PROBE_THREADS = 4


class CoreCalls:
    """Runs core calls in worker threads and knows how many are still running.

    A call whose request is cancelled (the server shutting down) is abandoned, not awaited:
    the thread finishes on its own (uploads see `stopping` and stop at the next chunk) while
    the server exits; `wait_idle` lets the process wait a bounded time for them.
    """

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self.running = 0
        # Liveness probes get threads of their own: a burst of slow calls filling the shared
        # pool (anyio's 40 threads) must not make /heartbeat wait behind them (measured: 46 s
        # behind 40 slow counts) and get the instance killed as dead.
        self._probes = anyio.CapacityLimiter(PROBE_THREADS)

    async def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await anyio.to_thread.run_sync(functools.partial(self._run, fn, *args, **kwargs), abandon_on_cancel=True)

    async def probe(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Like calling the instance, on the probes' own threads."""
        return await anyio.to_thread.run_sync(
            functools.partial(self._run, fn, *args, **kwargs), abandon_on_cancel=True, limiter=self._probes
        )

    def _run(self, fn, *args, **kwargs):
        with self._lock:
            self.running += 1
        try:
            return fn(*args, **kwargs)
        finally:
            with self._lock:
                self.running -= 1
                self._lock.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
        return True


def correlation_id(request: Request) -> str:
    return request.scope.get("state", {}).get("correlation_id") or ""


def ok(request: Request, data: Any, *, headers: dict[str, str] | None = None) -> JSONResponse:
    """The original service's success envelope."""
    return JSONResponse({"data": data, "meta": errors.meta(correlation_id(request))}, headers=headers)


def name_errors(request: Request, names: dict[str, Named]) -> None:
    """Name this request's errors as the original did, by what the request lacked (see errors.py)."""
    request.state.error_names = names


def _codes_and_reservation(body: Any) -> tuple[Any, Any]:
    """The body's `codes`, and the `reserveId` it names (None when absent: the spec's call)."""
    if not isinstance(body, dict):
        return None, None
    if "reserveId" in body and not isinstance(body["reserveId"], str):
        raise InvalidInput("invalid_reserve_id", f"reserveId must be a string, not {json.dumps(body['reserveId'])[:40]}")
    return body.get("codes"), body.get("reserveId")


def codes_error_name(body: Any) -> Named:
    """assign/release: which of the original's three errors a refused `codes` is."""
    codes = body.get("codes") if isinstance(body, dict) else None
    if codes is None:
        return errors.MISSING_CODES
    if isinstance(codes, list) and not codes:
        return errors.EMPTY_CODES
    return errors.INVALID_CODES_PROP


def create_app(
    service: CodeService,
    settings: Settings,
    *,
    prefix: str | None = None,
    metrics: Metrics | None = None,
    stopping: threading.Event | None = None,
) -> FastAPI:
    prefix = normalize_prefix(settings.api.prefix if prefix is None else prefix)
    verifier = TokenVerifier.from_settings(settings)
    metrics = metrics or Metrics()
    # Codes reserved, assigned and released through this instance: counted from the core's change events.
    service.subscribe(metrics.observe_change)
    stopping = stopping or threading.Event()
    retry_after = settings.api.retry_after_seconds
    json_bodies = JsonReader(max_bytes=settings.api.max_json_bytes, concurrency=settings.api.json_parse_concurrency)
    core = CoreCalls()
    max_count = getattr(service, "reserve_max_count", settings.inventory.reserve_max_count)
    code_length = getattr(service, "code_max_length", settings.inventory.code_max_length)

    app = FastAPI(
        title="code-console",
        version=__version__,
        summary="Promotional code inventory: upload, reserve, assign, release, count.",
        openapi_url=f"{prefix}/openapi.json",
        docs_url=None,
        redoc_url=None,
        # A redirect to the slash-less path would be built from the Host header.
        redirect_slashes=False,
    )
    app.state.service = service
    app.state.metrics = metrics
    app.state.verifier = verifier
    app.state.prefix = prefix
    app.state.stopping = stopping
    app.state.core = core

    bearer_scheme = HTTPBearer(auto_error=False, description="A JWT whose isSupreme claim is true")

    async def principal(request: Request, _=Security(bearer_scheme)) -> Principal:
        # The scheme above documents the header; the header is read here for exact errors.
        if any(name in request.query_params for name in TOKEN_QUERY_PARAMETERS):
            raise errors.Unauthorized(None, "a token in the query string is refused: send it as Authorization: Bearer <JWT>")
        who = verifier.verify(bearer_token(request.headers.get("authorization")))
        request.state.subject = who.subject
        return Principal(subject=who.subject, supreme=who.supreme, channel=Channel.API, request_id=correlation_id(request))

    errors_for = schema.error_responses
    api = APIRouter(prefix=prefix, dependencies=[Depends(principal)])
    open_routes = APIRouter(prefix=prefix)

    @api.post(
        "/{campaignId}/codes",
        summary="Upload codes: from an S3 fileKey (JSON), or a CSV body streamed with ?type=",
        openapi_extra=schema.upload_operation(),
        response_model=None,
        responses={200: schema._json(schema.envelope(schema.UPLOAD_COUNT), "the upload's counts"), **errors_for(400, 401, 403, 404, 413, 501, 502, 503)},
    )
    async def upload(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        campaignId = request.path_params["campaignId"]  # declared in schema.py, with its pattern
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        column = request.query_params.get("column") or None
        if media == "text/csv":
            body = await spool(request, settings.api.max_body_bytes)
            try:
                result = await core(
                    service.upload_from_file, who, campaignId, request.query_params.get("type"), body,
                    column=column, cancel=stopping, source_name="a text/csv request body",
                )
            finally:
                body.close()
        else:
            # The original service's callers send JSON; any other media type is read as JSON too.
            name_errors(request, {"invalid_key": errors.INVALID_FILE_KEY})
            payload = await json_bodies.read(request)
            file_key = payload.get("fileKey") if isinstance(payload, dict) else None
            result = await core(service.upload_from_key, who, campaignId, file_key, column=column, cancel=stopping)
        answer: dict = {"count": result.counts()}
        if result.warnings:
            answer["warnings"] = [w.to_dict() for w in result.warnings]
        return ok(request, answer)

    @api.get(
        "/{campaignId}/reserve",
        summary="Reserve codes; data is an array of code strings, the reserveId is in Reservation-Id",
        openapi_extra=schema.reserve_operation(max_count),
        response_model=None,
        responses={
            200: schema._json(
                schema.envelope({"type": "array", "items": {"type": "string"}}),
                "the reserved codes, sorted (fewer only when the pool runs out)",
                schema.RESERVATION_ID_HEADER,
            ),
            **errors_for(400, 401, 403, 409, 503),
        },
    )
    async def reserve(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        campaignId = request.path_params["campaignId"]  # declared in schema.py, with its pattern
        count, code_type = request.query_params.get("count"), request.query_params.get("type")
        if not count or not code_type:
            name_errors(request, {"invalid_count": errors.MISSING_RESERVE_PARAMS, "invalid_type": errors.MISSING_RESERVE_PARAMS})
        keys = request.headers.getlist("idempotency-key")
        if len(keys) > 1:
            # Which one the client meant cannot be known; using the first could reserve twice.
            raise InvalidInput("invalid_key", f"{len(keys)} Idempotency-Key headers were sent: send one")
        key = keys[0] if keys else None
        reservation = await core(service.reserve, who, campaignId, code_type, count, key=key)
        return ok(request, list(reservation.codes), headers={"Reservation-Id": reservation.reserve_id})

    update_responses = {
        200: schema._json(schema.envelope(schema.UPDATE_COUNT), "codes in, codes updated, and why the others did not change"),
        **errors_for(400, 401, 403, 409, 413, 503),
    }

    @api.post(
        "/{campaignId}/assign",
        summary="Assign codes permanently",
        openapi_extra={"parameters": [schema.campaign_parameter()], "requestBody": schema.codes_body(code_length)},
        response_model=None,
        responses=update_responses,
    )
    async def assign(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        campaignId = request.path_params["campaignId"]  # declared in schema.py, with its pattern
        body = await json_bodies.read(request)
        name_errors(request, {"invalid_codes": codes_error_name(body)})
        codes, reserve_id = _codes_and_reservation(body)
        result = await core(service.assign, who, campaignId, codes, reserve_id=reserve_id)
        return ok(request, {"count": result.to_dict(), "unchanged": result.unchanged_dict()})

    @api.post(
        "/{campaignId}/release",
        summary="Release reserved, unassigned codes",
        openapi_extra={"parameters": [schema.campaign_parameter()], "requestBody": schema.codes_body(code_length)},
        response_model=None,
        responses=update_responses,
    )
    async def release(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        campaignId = request.path_params["campaignId"]  # declared in schema.py, with its pattern
        body = await json_bodies.read(request)
        name_errors(request, {"invalid_codes": codes_error_name(body)})
        codes, reserve_id = _codes_and_reservation(body)
        result = await core(service.release, who, campaignId, codes, reserve_id=reserve_id)
        return ok(request, {"count": result.to_dict(), "unchanged": result.unchanged_dict()})

    @api.get(
        "/{campaignId}/codes/count",
        summary="Count codes by status (all three, or the one asked for)",
        openapi_extra=schema.count_operation(),
        response_model=None,
        responses={200: schema._json(schema.envelope(schema.STATUS_COUNTS), "counts by status"), **errors_for(400, 401, 403, 503)},
    )
    async def count(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        campaignId = request.path_params["campaignId"]  # declared in schema.py, with its pattern
        code_type = request.query_params.get("type")
        if not code_type:
            name_errors(request, {"invalid_type": errors.MISSING_TYPE})
        counts = await core(service.count, who, campaignId, code_type, request.query_params.get("status"))
        return ok(request, counts)

    @api.get(
        "/{campaignId}/events",
        summary="The campaign's recorded changes, newest first: who, when, through what, which codes (paginated)",
        openapi_extra=schema.events_operation(code_length, MAX_EVENTS_PER_PAGE),
        response_model=None,
        responses={200: schema._json(schema.envelope(schema.EVENT_PAGE), "a page of events and the cursor of the next"), **errors_for(400, 401, 403, 503)},
    )
    async def events(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        campaignId = request.path_params["campaignId"]  # declared in schema.py, with its pattern
        q = request.query_params
        page = await core(
            service.history, who, campaignId,
            code=q.get("code"), reserve_id=q.get("reserveId"), since=q.get("since"), before=q.get("before"), limit=q.get("limit"),
        )
        return ok(request, page.to_dict())

    @open_routes.api_route(
        "/{campaignId}/usage",
        summary="Reservations and assignments per hour (and per minute over the last hour), time to empty per type",
        openapi_extra={
            "parameters": [
                schema.campaign_parameter(),
                {"name": "window", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": ["1h", "24h", "7d"], "default": "24h"}, "description": "how far back the rates look"},
            ]
        },
        response_model=None,
        responses={200: schema._json(schema.envelope({"type": "object"}), "per type: counts, rates, time to empty, hourly and per-minute series"),
                   **errors_for(400, 401, 403, 503)},
    )
    async def usage(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        campaignId = request.path_params["campaignId"]  # declared above, with its pattern
        found = await core(service.usage, who, campaignId, request.query_params.get("window", "24h"))
        return ok(request, found.to_dict())

    @api.get(
        "/{campaignId}/codes/export",
        summary="Export a campaign's codes of one type (optionally one status) as CSV or JSON lines, streamed",
        openapi_extra={
            "parameters": [
                schema.campaign_parameter(),
                schema.type_parameter(True, "tm or external"),
                {"name": "status", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": ["available", "reserved", "assigned"]}, "description": "one status; every code when omitted"},
                {"name": "format", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": ["csv", "jsonl"], "default": "csv"}, "description": "csv (UTF-8, a header row) or jsonl"},
            ]
        },
        response_model=None,
        responses={
            200: {
                "description": "code, type, status, saved, reserved, assigned, reserveId per code, in code order; "
                "formula-looking CSV cells start with a single quote",
                "content": {"text/csv": {"schema": {"type": "string"}}, "application/x-ndjson": {"schema": {"type": "string"}}},
            },
            **errors_for(400, 401, 403, 503),
        },
    )
    async def export_codes(request: Request, who: Principal = Depends(principal)) -> StreamingResponse:
        campaignId = request.path_params["campaignId"]  # declared above, with its pattern
        code_type = request.query_params.get("type")
        if not code_type:
            name_errors(request, {"invalid_type": errors.MISSING_TYPE})
        fmt = ExportFormat.parse(request.query_params.get("format", "csv"))
        status = request.query_params.get("status")
        if status == "":
            raise InvalidInput("invalid_status", "status is empty: give available, reserved or assigned, or leave it out")
        # Checked and counted before the first byte, so a refusal is still a JSON error.
        export = await core(service.export, who, campaignId, code_type, status)
        # A sync iterator: Starlette pulls each chunk in a worker thread, never on the event loop;
        # a failure mid-stream ends the response early (the client sees it incomplete).
        body = render(export.records, fmt, cancel=stopping)
        disposition = f'attachment; filename="{export.file_name(fmt)}"'
        return StreamingResponse(body, media_type=fmt.media_type, headers={"Content-Disposition": disposition, "Export-Total": str(export.total)})

    @open_routes.api_route(
        "/heartbeat",
        methods=["GET", "HEAD"],  # load balancers often probe with HEAD
        summary="Liveness, with a MongoDB ping (no token): ok or unavailable",
        response_model=None,
        responses={
            200: {"description": "the store answered", "content": {"application/json": {"schema": schema.HEARTBEAT}}},
            503: {"description": "the store did not answer", "content": {"application/json": {"schema": schema.HEARTBEAT}}},
        },
    )
    async def heartbeat(request: Request) -> JSONResponse:
        body: dict[str, str] = {}
        try:
            await core.probe(service.ping)
            body["status"], status, headers = "ok", 200, None
        except StoreUnavailable:
            body["status"], status, headers = "unavailable", 503, {"Retry-After": str(retry_after)}
        if _is_supreme(verifier, request.headers.get("authorization")):
            # Where the codes live, for an operator; anonymous callers learn only ok/unavailable.
            body["store"] = redact_uri(service.describe().store)
        return JSONResponse(body, status_code=status, headers=headers)

    @open_routes.get(
        "/metrics",
        summary="Prometheus metrics (no token)",
        response_model=None,
        responses={200: {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def metrics_endpoint() -> Response:
        return Response(metrics.render(), media_type=METRICS_CONTENT_TYPE)

    app.include_router(open_routes)
    app.include_router(api)
    if settings.api.dev_endpoints:
        app.include_router(_dev_routes(prefix, settings, principal))
        log.warning("development endpoints are on: POST /dev/token mints supreme tokens for anyone")
    if settings.api.docs:

        @app.get(f"{prefix}/docs", include_in_schema=False)
        async def api_docs() -> HTMLResponse:
            return HTMLResponse(docs.render(app.openapi()), headers={"Content-Security-Policy": docs.CSP})

    @app.exception_handler(CodeConsoleError)
    async def domain_error(request: Request, exc: CodeConsoleError) -> JSONResponse:
        response = errors.error_response(
            exc,
            correlation_id=correlation_id(request),
            retry_after_seconds=retry_after,
            overrides=getattr(request.state, "error_names", None),
        )
        level = logging.WARNING if response.status_code >= 500 else logging.INFO
        log.log(level, "request failed", extra={"code": exc.code, "status": response.status_code, "error": exc.message})
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        return errors.http_error_response(exc.status_code, detail, correlation_id(request), dict(exc.headers) if exc.headers else None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first: dict[str, Any] = next(iter(exc.errors()), {})
        return errors.http_error_response(400, str(first.get("msg", "invalid request")), correlation_id(request))

    app.add_middleware(
        RequestContext,
        metrics=metrics,
        max_body_bytes=max(settings.api.max_body_bytes, settings.api.max_json_bytes),
        retry_after=retry_after,
    )
    return app


def _is_supreme(verifier: TokenVerifier, authorization: str | None) -> bool:
    if not authorization:
        return False
    try:
        return verifier.verify(bearer_token(authorization)).supreme
    except CodeConsoleError:
        return False


def _dev_routes(prefix: str, settings: Settings, principal) -> APIRouter:
    """The original service's development endpoints (only with CODE_CONSOLE_API_DEV_ENDPOINTS=true)."""
    dev = APIRouter(prefix=f"{prefix}/dev", tags=["development"])

    @dev.post("/token", summary="Mint a token from {userId, isSupreme} (development only)", response_model=None)
    async def dev_token(request: Request) -> JSONResponse:
        body = await request.json() if (await request.body()).strip() else None
        user_id = body.get("userId") if isinstance(body, dict) else None
        supreme = body.get("isSupreme", False) if isinstance(body, dict) else None
        if not isinstance(user_id, str) or not user_id or not isinstance(supreme, bool):
            raise InvalidInput("invalid_token_request", 'the body must be {"userId": "<non-empty string>", "isSupreme": true|false}')
        token = mint_token(settings, subject=user_id, supreme=supreme, ttl=DEV_TOKEN_TTL_SECONDS)
        return ok(request, {"token": token})

    @dev.get("/auth", summary="What the server reads from a token (development only)", response_model=None)
    async def dev_auth(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        return ok(request, {"userId": who.subject, "isSupreme": who.supreme})

    @dev.get("/supremes", summary="403 unless the token is supreme (development only)", response_model=None)
    async def dev_supremes(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        if not who.supreme:
            raise Forbidden()
        return ok(request, {"isSupreme": True})

    return dev


class RequestContext:
    """Pure ASGI middleware: correlation id, body-size limit, security headers, access log,
    metrics, client disconnects, last-resort 500.

    It wraps the whole app, so it sees every response, including errors, and can answer a
    failure no handler caught without ever sending a stack trace.
    """

    SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store")]

    def __init__(self, app, *, metrics: Metrics, max_body_bytes: int, retry_after: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.retry_after = retry_after

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = Headers(scope=scope)
        # Shared with the handlers (request.state), so the access log can name the subject.
        state = scope.setdefault("state", {})
        cid = correlation_id_from(headers)
        state["correlation_id"] = cid
        token = request_id_var.set(cid)
        status = 500
        response_started = False
        recorded = False
        echo = cid.encode()

        def record(disconnected: bool = False) -> None:
            # Called before the last byte goes out, so a client that has its response can
            # already see it in /metrics.
            nonlocal recorded
            if recorded:
                return
            recorded = True
            elapsed = time.perf_counter() - started
            # A route template bounds the label set; anything unmatched is one value.
            route = getattr(scope.get("route"), "path", None)
            self.metrics.observe_request(route, scope["method"], status, elapsed)
            log.info(
                "client disconnected" if disconnected else "request",
                extra={
                    "method": scope["method"][:16],
                    "path": scope["path"][:256],
                    "route": route or "unmatched",
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "subject": state.get("subject"),
                    "client": (scope.get("client") or ("", 0))[0],
                },
            )

        async def send_with_headers(message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [
                    *message.get("headers", []),
                    *self.SECURITY_HEADERS,
                    (b"x-titan-correlation-id", echo),
                    (b"x-correlation-id", echo),
                    (b"x-request-id", echo),
                ]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                record()
            await send(message)

        limit = self.max_body_bytes
        received = 0

        async def receive_limited():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise errors.PayloadTooLarge(None, f"the request body is over the limit of {limit:,} bytes")
            return message

        try:
            declared = headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                too_large = errors.PayloadTooLarge(None, f"the request body ({int(declared):,} bytes) is over the limit of {limit:,} bytes")
                response = errors.error_response(too_large, correlation_id=cid, retry_after_seconds=self.retry_after)
                await response(scope, receive, send_with_headers)
            else:
                await self.app(scope, receive_limited, send_with_headers)
        except ClientDisconnect:
            # The client went away mid-request (an upload cut short): nothing to answer, and
            # not a server error.
            status = 499
            record(disconnected=True)
        except Exception:
            log.exception("unhandled error")
            if not response_started:
                await JSONResponse(errors.internal_error_body(cid), status_code=500)(scope, receive, send_with_headers)
        finally:
            record()
            request_id_var.reset(token)
