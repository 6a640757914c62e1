"""uvicorn's h11 protocol with the read timeouts and the connection limit uvicorn lacks.

uvicorn times out only an idle keep-alive connection, and any byte received cancels that timer:
a client that trickles its request line and headers, or its body, holds a connection (and, past
`limit_concurrency`, everyone's capacity) for as long as it likes. This subclass adds, per
connection, one timer at a time:

- header timer: armed when the connection opens and again when a response completes; when it
  fires and no new request has started since it was armed (its line and headers never
  completed), the connection gets a 408 and is closed;
- body timer: armed when a request's headers complete; when it fires and the request's body
  has not fully arrived, the request is marked disconnected (the application sees
  `http.disconnect`), the client gets a 408 if no response started, and the connection closes.

And a connection limit: past `max_connections` open connections, a new one is closed at once.
It relies on uvicorn's H11Protocol attributes (`cycle`, `conn`, `transport`, `connections`);
tests/api/test_hostile.py proves each timer against a real server, so an uvicorn change that
breaks them fails the suite.
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn.protocols.http.h11_impl import H11Protocol

from code_console.api.errors import raw_error

log = logging.getLogger("code_console.api")


class GuardedH11Protocol(H11Protocol):
    header_timeout: float = 10.0
    body_timeout: float = 60.0
    max_connections: int = 1000

    @classmethod
    def configured(cls, *, header_timeout: float, body_timeout: float, max_connections: int) -> type[GuardedH11Protocol]:
        return type(
            "GuardedH11Protocol",
            (cls,),
            {"header_timeout": header_timeout, "body_timeout": body_timeout, "max_connections": max_connections},
        )

    def connection_made(self, transport) -> None:
        self._guard: asyncio.TimerHandle | None = None
        self._received_since_armed = False
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            log.warning("connection refused: limit reached", extra={"event": "connection_limit", "limit": self.max_connections})
            transport.close()
            return
        self._arm_header_timer()

    def connection_lost(self, exc) -> None:
        self._cancel_guard()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._received_since_armed = True
        super().data_received(data)

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        if self.cycle is not None and self.cycle is not before:
            # A request's line and headers are complete: now its body has its own deadline.
            self._cancel_guard()
            cycle = self.cycle
            self._guard = self.loop.call_later(self.body_timeout, self._body_timed_out, cycle)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and (self.cycle is None or not self.cycle.more_body):
            self._arm_header_timer()

    # -- timers -------------------------------------------------------------------------------

    def _cancel_guard(self) -> None:
        if self._guard is not None:
            self._guard.cancel()
            self._guard = None

    def _arm_header_timer(self) -> None:
        self._cancel_guard()
        self._received_since_armed = False
        self._guard = self.loop.call_later(self.header_timeout, self._headers_timed_out, self.cycle)

    def _headers_timed_out(self, cycle_when_armed) -> None:
        self._guard = None
        waiting = self.cycle is cycle_when_armed and (self.cycle is None or self.cycle.response_complete)
        if self.transport.is_closing() or not waiting:
            return
        if self._received_since_armed:
            # Part of a request arrived; a connection that sent nothing is just closed (an idle
            # keep-alive connection could take a 408 for the answer to its next request).
            log.info("request headers not received in time", extra={"event": "header_timeout", "client": self._client_host()})
            self._write_408("the request line and headers did not arrive in time")
        self.transport.close()

    def _body_timed_out(self, cycle) -> None:
        self._guard = None
        if self.transport.is_closing() or cycle is not self.cycle or not cycle.more_body:
            return
        log.info("request body not received in time", extra={"event": "body_timeout", "client": self._client_host()})
        if not cycle.response_started:
            self._write_408("the request body did not arrive in time")
            cycle.response_started = cycle.response_complete = True
        cycle.disconnected = True
        cycle.message_event.set()
        self.transport.close()

    def _write_408(self, message: str) -> None:
        # Written as bytes, not through h11: the connection closes right after, and h11 has no
        # request to answer while the headers are still incomplete.
        body = raw_error(408, "request_timeout", message, "")
        head = (
            b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head + body)

    def _client_host(self) -> str:
        return (self.client or ("", 0))[0]
