"""`code-console serve`: the API under uvicorn, with JSON logs."""

from __future__ import annotations

import logging
import threading

import uvicorn

from code_console.api.app import create_app, normalize_prefix
from code_console.api.auth import TokenVerifier
from code_console.api.logs import log_config
from code_console.config import Settings
from code_console.core.service import CodeService

log = logging.getLogger("code_console.api")


class ApiServer(uvicorn.Server):
    """uvicorn's server, announcing when it accepts connections.

    `listening` is an event for in-process callers; the "listening" log line carries the bound
    port (useful with --port 0) for supervisors and tests that start the server as a process.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = threading.Event()
        self.port: int | None = None

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        if self.should_exit or not self.servers:
            return
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        self.port = port
        log.info("listening", extra={"event": "listening", "host": host, "port": port})
        self.listening.set()


def build_server(
    service: CodeService, settings: Settings, *, host: str = "127.0.0.1", port: int = 8000, prefix: str | None = None
) -> ApiServer:
    app = create_app(service, settings, prefix=prefix)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=log_config(settings.api_log_level),
        access_log=False,  # the API logs each request itself, as JSON with its request id
        server_header=False,
        lifespan="off",
        timeout_graceful_shutdown=10,
    )
    return ApiServer(config)


def serve(*, host: str, port: int, prefix: str | None = None) -> int:
    from code_console.runtime import open_service

    settings = Settings()
    TokenVerifier.from_settings(settings)  # a server no token can pass is a configuration error: say so first
    service = open_service(settings)
    server = build_server(service, settings, host=host, port=port, prefix=prefix)
    app = server.config.app
    log.info(
        "starting",
        extra={
            "store": service.describe().store,
            "prefix": normalize_prefix(prefix if prefix is not None else settings.api_prefix) or "/",
            "jwt_algorithms": app.state.verifier.algorithms,
        },
    )
    try:
        server.run()
    finally:
        service.close()
    return 0 if server.started else 1
