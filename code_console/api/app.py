"""The HTTP API for the verification service: the spec's routes on the CodeService façade.

Handlers parse the request, call CodeService in the threadpool (every core call blocks on
MongoDB or S3, so none runs on the event loop) and render the result. The business rules,
including "only a supreme principal may act", live in the core.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException

from code_console import __version__
from code_console.api import errors
from code_console.api.auth import TokenVerifier, bearer_token
from code_console.api.logs import request_id_from, request_id_var
from code_console.api.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from code_console.api.metrics import Metrics
from code_console.config import Settings
from code_console.core.errors import CodeConsoleError, InvalidInput
from code_console.core.models import Principal
from code_console.core.service import CodeService

log = logging.getLogger("code_console.api")

# Query parameters that would carry a token in the URL, where proxies and logs keep it.
TOKEN_QUERY_PARAMETERS = ("access_token", "token", "jwt")
# A streamed CSV stays in memory up to this size, then spills to a temporary file.
SPOOL_MEMORY_BYTES = 1024 * 1024

CODES_BODY = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["codes"],
                "properties": {"codes": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
            }
        }
    },
    "required": True,
}
UPLOAD_BODY = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["fileKey"],
                "properties": {"fileKey": {"type": "string", "example": "codes/CAMP123/tm/batch1.csv"}},
            }
        },
        "text/csv": {"schema": {"type": "string", "format": "binary"}},
    },
    "required": True,
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "invalid input"},
    401: {"description": "no token, or a token that does not verify"},
    403: {"description": "the token is not supreme"},
    503: {"description": "MongoDB or S3 cannot be reached (with Retry-After)"},
}


def normalize_prefix(prefix: str | None) -> str:
    prefix = (prefix or "").strip().strip("/")
    return f"/{prefix}" if prefix else ""


def create_app(service: CodeService, settings: Settings, *, prefix: str | None = None, metrics: Metrics | None = None) -> FastAPI:
    prefix = normalize_prefix(settings.api_prefix if prefix is None else prefix)
    verifier = TokenVerifier.from_settings(settings)
    metrics = metrics or Metrics()
    retry_after = settings.api_retry_after_seconds

    app = FastAPI(
        title="code-console",
        version=__version__,
        summary="Promotional code inventory: upload, reserve, assign, release, count.",
        openapi_url=f"{prefix}/openapi.json",
        docs_url=f"{prefix}/docs",
        redoc_url=None,
    )
    app.state.service = service
    app.state.metrics = metrics
    app.state.verifier = verifier
    app.state.prefix = prefix

    bearer_scheme = HTTPBearer(auto_error=False, description="A JWT whose supreme claim is true")

    async def principal(request: Request, _=Security(bearer_scheme)) -> Principal:
        # The scheme above documents the header; the header is read here for exact errors.
        if any(name in request.query_params for name in TOKEN_QUERY_PARAMETERS):
            raise errors.Unauthorized(None, "a token in the query string is refused: send it as Authorization: Bearer <JWT>")
        who = verifier.verify(bearer_token(request.headers.get("authorization")))
        request.state.subject = who.subject
        return who

    api = APIRouter(prefix=prefix, dependencies=[Depends(principal)], responses=ERROR_RESPONSES)
    open_routes = APIRouter(prefix=prefix)

    @api.post(
        "/{campaignId}/codes",
        summary="Upload codes: from an S3 fileKey (JSON), or a CSV body streamed with ?type=",
        openapi_extra={"requestBody": UPLOAD_BODY},
        responses={404: {"description": "no such S3 object"}, 413: {"description": "body over the limit"}},
    )
    async def upload(
        campaignId: str,
        request: Request,
        who: Principal = Depends(principal),
        type: str | None = Query(None, description="tm or external; only with a text/csv body"),
    ) -> dict:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media == "text/csv":
            spool = await _spool(request)
            try:
                result = await run_in_threadpool(service.upload_from_file, who, campaignId, type, spool)
            finally:
                spool.close()
        else:
            # The original service's callers send JSON; any other media type is read as JSON too.
            if type is not None:
                raise InvalidInput(
                    "invalid_type", "with a fileKey the type comes from the key; send ?type= only with a text/csv body"
                )
            body = await _json(request)
            file_key = body.get("fileKey") if isinstance(body, dict) else None
            if file_key is None:
                raise InvalidInput("invalid_key", 'the body must be {"fileKey": "codes/{campaignId}/{type}/{file}"}')
            result = await run_in_threadpool(service.upload_from_key, who, campaignId, file_key)
        return {"count": result.to_dict()}

    @api.get("/{campaignId}/reserve", summary="Reserve codes; returns a JSON array of code strings", response_model=list[str])
    async def reserve(
        campaignId: str,
        count: str | None = Query(None, description="how many codes, from 1 to the configured maximum"),
        type: str | None = Query(None, description="tm or external"),
        idempotency_key: str | None = Header(
            None, alias="Idempotency-Key", description="a retry with the same key returns the same codes"
        ),
        who: Principal = Depends(principal),
    ) -> JSONResponse:
        codes = await run_in_threadpool(lambda: service.reserve(who, campaignId, type, count, key=idempotency_key).codes)
        metrics.codes("reserved", len(codes))
        return JSONResponse(codes)

    @api.post("/{campaignId}/assign", summary="Assign codes permanently", openapi_extra={"requestBody": CODES_BODY})
    async def assign(campaignId: str, request: Request, who: Principal = Depends(principal)) -> dict:
        codes = _field(await _json(request), "codes")
        result = await run_in_threadpool(service.assign, who, campaignId, codes)
        metrics.codes("assigned", result.updated)
        return {"count": result.to_dict()}

    @api.post("/{campaignId}/release", summary="Release reserved, unassigned codes", openapi_extra={"requestBody": CODES_BODY})
    async def release(campaignId: str, request: Request, who: Principal = Depends(principal)) -> dict:
        codes = _field(await _json(request), "codes")
        result = await run_in_threadpool(service.release, who, campaignId, codes)
        metrics.codes("released", result.updated)
        return {"count": result.to_dict()}

    @api.get("/{campaignId}/codes/count", summary="Count codes by status (all three, or the one asked for)")
    async def count(
        campaignId: str,
        type: str | None = Query(None, description="tm or external (required)"),
        status: str | None = Query(None, description="available, reserved or assigned"),
        who: Principal = Depends(principal),
    ) -> dict[str, int]:
        return await run_in_threadpool(service.count, who, campaignId, type, status)

    @open_routes.get("/heartbeat", summary="Liveness, with a MongoDB ping (no token)")
    async def heartbeat() -> dict:
        await run_in_threadpool(service.ping)
        return {"status": "ok", "store": service.describe().store}

    @open_routes.get("/metrics", summary="Prometheus metrics (no token)", response_class=PlainTextResponse)
    async def metrics_endpoint() -> PlainTextResponse:
        return PlainTextResponse(metrics.render(), media_type=METRICS_CONTENT_TYPE)

    app.include_router(open_routes)
    app.include_router(api)

    @app.exception_handler(CodeConsoleError)
    async def domain_error(request: Request, exc: CodeConsoleError) -> JSONResponse:
        response = errors.error_response(exc, retry_after_seconds=retry_after)
        level = logging.WARNING if response.status_code >= 500 else logging.INFO
        log.log(level, "request failed", extra={"code": exc.code, "status": response.status_code, "error": exc.message})
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return errors.http_error_response(exc.status_code, exc.detail if isinstance(exc.detail, str) else None, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return errors.validation_error_response(list(exc.errors()))

    app.add_middleware(RequestContext, metrics=metrics, max_body_bytes=settings.api_max_body_bytes, retry_after=retry_after)
    return app


async def _spool(request: Request):
    """The request body in a file, read chunk by chunk (the size limit is enforced as it arrives)."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES, prefix="code-console-upload-")
    try:
        async for chunk in request.stream():
            spool.write(chunk)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


async def _json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise InvalidInput("invalid_json", "the request body is empty; expected JSON")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("invalid_json", "the request body is not valid JSON") from None


def _field(body: Any, name: str) -> Any:
    return body.get(name) if isinstance(body, dict) else None


class RequestContext:
    """Pure ASGI middleware: request id, body-size limit, access log, metrics, last-resort 500.

    It wraps the whole app, so it sees every response, including errors, and can answer a
    failure no handler caught without ever sending a stack trace.
    """

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
        scope.setdefault("state", {})
        request_id = request_id_from(headers.get("x-request-id"))
        token = request_id_var.set(request_id)
        status = 500
        response_started = False
        recorded = False

        def record() -> None:
            # Called before the last byte goes out, so a client that has its response can
            # already see it in /metrics.
            nonlocal recorded
            if recorded:
                return
            recorded = True
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            # A route template bounds the label set; static routes (docs) have no template.
            template = getattr(route, "path", None) or (scope["path"] if "endpoint" in scope else "unmatched")
            self.metrics.observe_request(template, scope["method"], status, elapsed)
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": template,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "subject": scope["state"].get("subject"),
                    "client": (scope.get("client") or ("", 0))[0],
                },
            )

        async def send_with_id(message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
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
                await errors.error_response(too_large, retry_after_seconds=self.retry_after)(scope, receive, send_with_id)
            else:
                await self.app(scope, receive_limited, send_with_id)
        except Exception:
            log.exception("unhandled error")
            if not response_started:
                await JSONResponse(errors.internal_error_body(request_id), status_code=500)(scope, receive, send_with_id)
        finally:
            record()
            request_id_var.reset(token)
