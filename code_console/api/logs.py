"""Structured logs: one JSON object per line, with the request id of the request being served."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import datetime, timezone

from code_console.core.uri import redact_uris

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# A caller's id is echoed and logged, so it must be short and harmless in a header and a log line.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Where a caller's correlation id may come from, first found wins: the original service's header
# (its gateway sets it), the common one, then the product's older X-Request-Id.
CORRELATION_HEADERS = ("x-titan-correlation-id", "x-correlation-id", "x-request-id")

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


def request_id_from(header: str | None) -> str:
    """The caller's id if it is safe to echo (1-128 of [A-Za-z0-9._:-]), else a fresh dashed UUID v4."""
    if header and REQUEST_ID_PATTERN.fullmatch(header):
        return header
    return str(uuid.uuid4())


def correlation_id_from(headers) -> str:
    """From the first correlation header present (validated), else generated."""
    for name in CORRELATION_HEADERS:
        value = headers.get(name)
        if value is not None:
            return request_id_from(value)
    return request_id_from(None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact_uris(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            out["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in out:
                out[key] = redact_uris(value) if isinstance(value, str) else value
        if record.exc_info:
            out["exc"] = redact_uris(self.formatException(record.exc_info))
        return json.dumps(out, default=str)


def log_config(level: str = "info") -> dict:
    """A logging.config dict for uvicorn and the API: JSON lines on stderr."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "code_console": {"handlers": ["stderr"], "level": level, "propagate": False},
        },
    }
