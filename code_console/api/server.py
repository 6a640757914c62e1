"""`code-console serve`: the API under uvicorn, with JSON logs, read timeouts and a bounded shutdown.

Start-up refuses, with one line and exit status 2, what cannot serve the verification service:
a port outside 0-65535, a JWT configuration no token can pass or a short secret, and no
MongoDB (CODE_CONSOLE_MONGO_URI) unless `--embedded` asks for the embedded SQLite store.

SIGTERM (or Ctrl-C): stop accepting; in-flight requests get api_shutdown_timeout_seconds to
finish; then uploads are told to stop at their next chunk and uvicorn cancels what is left;
the process waits at most as long again for core calls still in worker threads, and exits
(status 0, or 1 if it had to abandon some).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from typing import cast

import uvicorn
from fastapi import FastAPI

from code_console.api.app import create_app, normalize_prefix
from code_console.api.auth import TokenVerifier
from code_console.api.logs import log_config
from code_console.api.protocol import GuardedH11Protocol
from code_console.config import Settings
from code_console.core.errors import InvalidInput
from code_console.core.service import CodeService

log = logging.getLogger("code_console.api")

# The original service listens on 8080; its clients and probes expect it there.
DEFAULT_PORT = 8080


class ApiServer(uvicorn.Server):
    """uvicorn's server, announcing when it accepts connections and stopping uploads on shutdown.

    `listening` is an event for in-process callers; the "listening" log line carries the bound
    port (useful with --port 0) for supervisors and tests that start the server as a process.
    """

    def __init__(self, config: uvicorn.Config, *, stopping: threading.Event, background=None) -> None:
        super().__init__(config)
        self.listening = threading.Event()
        self.stopping = stopping
        self.port: int | None = None
        # Runs while the server serves (the alert checks): start() after start-up, stop() at shutdown.
        self.background = background

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        if self.should_exit or not self.servers:
            return
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        self.port = port
        log.info("listening", extra={"event": "listening", "host": host, "port": port})
        if self.background is not None:
            self.background.start()
        self.listening.set()

    async def shutdown(self, sockets=None) -> None:
        grace = self.config.timeout_graceful_shutdown or 0
        log.info("shutting down", extra={"event": "shutting_down", "grace_seconds": grace})
        # Uploads still running when the grace period ends stop at their next chunk.
        stop_uploads = asyncio.get_running_loop().call_later(grace, self.stopping.set)
        try:
            if self.background is not None:
                await asyncio.to_thread(self.background.stop)
            await super().shutdown(sockets=sockets)
        finally:
            stop_uploads.cancel()
            self.stopping.set()


def build_server(
    service: CodeService, settings: Settings, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT, prefix: str | None = None,
    background=None,
) -> ApiServer:
    stopping = threading.Event()
    app = create_app(service, settings, prefix=prefix, stopping=stopping)
    protocol = GuardedH11Protocol.configured(
        header_timeout=settings.api.header_timeout_seconds,
        body_timeout=settings.api.body_timeout_seconds,
        max_connections=settings.api.max_connections,
    )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        log_config=log_config(settings.api.log_level),
        access_log=False,  # the API logs each request itself, as JSON with its correlation id
        server_header=False,
        lifespan="off",
        timeout_keep_alive=settings.api.keep_alive_seconds,  # type: ignore[arg-type]  # seconds, fractions too
        limit_concurrency=settings.api.max_connections,
        h11_max_incomplete_event_size=settings.api.max_header_bytes,
        timeout_graceful_shutdown=settings.api.shutdown_timeout_seconds,  # type: ignore[arg-type]  # seconds, fractions too
    )
    return ApiServer(config, stopping=stopping, background=background)


def alert_loop(settings: Settings, service: CodeService):
    """The low-stock checks the server runs on a schedule, when a webhook URL is configured
    (without one, `code-console watch` checks and logs); None otherwise."""
    if not settings.alert.webhook_url:
        return None
    from code_console import runtime
    from code_console.core.alerts import AlertLoop
    from code_console.core.models import Channel, Principal

    checker = runtime.alert_checker(settings, service, Principal("alert-checks", supreme=True, channel=Channel.API))
    return AlertLoop(checker, settings.alert.check_seconds)


def check_port(port: int) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise InvalidInput("invalid_port", f"--port must be from 0 to 65535 (0 picks a free port), not {port}")
    return port


def serve(*, host: str, port: int, prefix: str | None = None, embedded: bool = False) -> int:
    from code_console import runtime

    check_port(port)
    settings = Settings()
    TokenVerifier.from_settings(settings)  # a server no token can pass is a configuration error: say so first
    service = runtime.serving(settings, embedded=embedded).service
    server = build_server(service, settings, host=host, port=port, prefix=prefix, background=alert_loop(settings, service))
    app = cast(FastAPI, server.config.app)  # the app build_server gave it
    log.info(
        "starting",
        extra={
            "store": service.describe().store,
            "prefix": normalize_prefix(prefix if prefix is not None else settings.api.prefix) or "/",
            "jwt_algorithms": app.state.verifier.algorithms,
            "jwt_supreme_claim": settings.jwt.supreme_claim,
        },
    )
    # uvicorn re-raises the signal it caught once it has shut down; with the default SIGTERM
    # action that would kill the process before the clean-up below. A no-op handler lets it finish.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: None)
    abandoned = 0
    try:
        server.run()
    finally:
        core = app.state.core
        if not core.wait_idle(settings.api.shutdown_timeout_seconds):
            abandoned = core.running
        service.close()
    if abandoned:
        log.error("exiting with core calls still running", extra={"event": "abandoned", "calls": abandoned})
        logging.shutdown()
        sys.stderr.flush()
        # Worker threads are not daemons: a normal exit would wait for them without bound.
        os._exit(1)
    log.info("stopped", extra={"event": "stopped"})
    return 0 if server.started else 1
