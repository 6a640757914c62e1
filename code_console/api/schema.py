"""The OpenAPI fragments of each operation: the real constraints, so that a schema-driven client
(or schemathesis) sends only what the server accepts and expects only what it answers.

Parameters are declared here, not taken from handler signatures: the handlers read them raw so
that the core (not FastAPI's validation) decides, in the original service's order (a caller
who is not supreme learns nothing about its parameters).
"""

from __future__ import annotations

from typing import Any

from code_console.core.service import CAMPAIGN_PATTERN, MAX_CODES_PER_CALL, RESERVATION_KEY_PATTERN

EXAMPLE_CAMPAIGN = "CAMP123"
# The format name of a code: a string the core's code rule accepts (printable; surrounding
# whitespace is trimmed; at most the configured length). JSON Schema cannot state that rule in
# full, so it has a name, and its text in the description.
CODE_FORMAT = "promo-code"


def _ecma(pattern) -> str:
    # Python's \Z (end of string) is written $ in the ECMA-262 dialect OpenAPI uses, where $ does
    # not match before a final newline.
    return pattern.pattern.replace("\\Z", "$")


META = {
    "type": "object",
    "required": ["timestamp", "correlationId"],
    "properties": {
        "timestamp": {"type": "string", "description": "ISO 8601, UTC, milliseconds", "example": "2024-01-15T10:30:00.000Z"},
        "correlationId": {"type": "string", "description": "from x-titan-correlation-id / X-Correlation-ID, else generated"},
    },
}

ERROR = {
    "type": "object",
    "required": ["error", "meta"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "message", "payload", "name", "code"],
            "properties": {
                "status": {"type": "integer", "description": "the HTTP status"},
                "message": {"type": "string", "description": "what went wrong, safe to show"},
                "payload": {"type": "string", "description": "the original service's short identifier", "example": "Invalid count."},
                "name": {"type": "string", "description": "the original service's error name", "example": "invalidCount"},
                "code": {"type": "string", "description": "the product's stable error code", "example": "invalid_count"},
            },
        },
        "meta": META,
    },
}


def envelope(data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["data", "meta"], "properties": {"data": data, "meta": META}}


def _json(schema: dict[str, Any], description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        out["headers"] = headers
    return out


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    text = {
        400: "invalid input (the original's names: InvalidType, missingType, InvalidStatus, missingCodeReserveParams, invalidCount, "
        "missingCodes, emptyCodes, invalidCodesProp)",
        401: "no token, or a token that does not verify (notLoggedIn)",
        403: "the token is not supreme (supremeUserRequired)",
        404: "no such file key or S3 object (invalidFileKey)",
        409: "a reservation key reused with other parameters",
        413: "body over the configured limit",
        501: "no S3 bucket is configured",
        502: "S3 refused the server's credentials",
        503: "MongoDB or S3 cannot be reached (Retry-After), or the server is shutting down",
    }
    return {status: _json(ERROR, text[status]) for status in statuses}


def campaign_parameter() -> dict[str, Any]:
    return {
        "name": "campaignId",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": _ecma(CAMPAIGN_PATTERN), "example": EXAMPLE_CAMPAIGN},
        "description": "1-128 letters, digits, '_', '-', '.', ':' starting with a letter or digit",
    }


def type_parameter(required: bool, description: str) -> dict[str, Any]:
    return {"name": "type", "in": "query", "required": required, "schema": {"type": "string", "enum": ["tm", "external"]}, "description": description}


def code_schema(max_length: int) -> dict[str, Any]:
    return {
        "type": "string",
        "format": CODE_FORMAT,
        "minLength": 1,
        "description": (
            f"a code: printable characters, surrounding whitespace trimmed, at most {max_length} characters after trimming"
        ),
        "example": "CODE001",
    }


def codes_body(max_length: int) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["codes"],
                    "properties": {
                        "codes": {"type": "array", "minItems": 1, "maxItems": MAX_CODES_PER_CALL, "items": code_schema(max_length)},
                        "reserveId": {
                            "type": "string",
                            "pattern": _ecma(RESERVATION_KEY_PATTERN),
                            "description": "the reservation the caller holds the codes under: only codes it still holds change",
                        },
                    },
                },
                "example": {"codes": ["CODE001", "CODE002"]},
            }
        },
    }


def upload_operation() -> dict[str, Any]:
    return {
        "parameters": [
            campaign_parameter(),
            type_parameter(False, "tm or external: required with a text/csv body; with a JSON body the type comes from the key and this is ignored"),
            {
                "name": "column",
                "in": "query",
                "required": False,
                "description": "the column that holds the codes: a header name or a number from 1 "
                "(default: the column a header names code, coupon, voucher or promo)",
                "schema": {"type": "string", "minLength": 1, "maxLength": 128},
            },
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["fileKey"],
                        "properties": {
                            "fileKey": {
                                "type": "string",
                                "description": "the S3 key codes/{campaignId}/{type}/{file}; its campaign must be the path's",
                                "example": f"codes/{EXAMPLE_CAMPAIGN}/tm/batch1.csv",
                            }
                        },
                    },
                    "example": {"fileKey": f"codes/{EXAMPLE_CAMPAIGN}/tm/batch1.csv"},
                },
                "text/csv": {
                    "schema": {"type": "string", "format": "binary"},
                    "description": "the CSV itself (UTF-8, one code per record, header row, sep= line and ; tab | delimiters accepted); needs ?type=",
                },
            },
        },
    }


UPLOAD_COUNT = {
    "type": "object",
    "required": ["count"],
    "properties": {
        "warnings": {
            "type": "array",
            "description": "codes that look damaged, or that differ only by letter case from another code of the file "
            "or from a code already in the campaign (uploaded all the same)",
            "items": {
                "type": "object",
                "required": ["kind", "count", "examples", "message"],
                "properties": {
                    "kind": {"type": "string", "enum": ["scientific_notation", "formula", "case_twin", "case_twin_stored"]},
                    "count": {"type": "integer", "minimum": 1},
                    "examples": {"type": "array", "items": {"type": "object"}, "description": "up to 5: line, code, other"},
                    "message": {"type": "string"},
                    "checked": {
                        "type": "integer",
                        "description": "case_twin_stored only: the file's first this many codes were compared (a bounded check)",
                    },
                },
            },
        },
        "count": {
            "type": "object",
            "required": ["in", "inserted", "updated"],
            "properties": {
                "in": {"type": "integer", "minimum": 0},
                "inserted": {"type": "integer", "minimum": 0},
                "updated": {"type": "integer", "minimum": 0},
                "conflicts": {"type": "integer", "minimum": 0, "description": "codes stored under the other type (not moved)"},
                "duplicates": {"type": "integer", "minimum": 0, "description": "repeats of a code earlier in the file"},
            },
        }
    },
}

UPDATE_COUNT = {
    "type": "object",
    "required": ["count", "unchanged"],
    "properties": {
        "count": {
            "type": "object",
            "required": ["in", "updated"],
            "properties": {"in": {"type": "integer", "minimum": 0}, "updated": {"type": "integer", "minimum": 0}},
        },
        "unchanged": {
            "type": "object",
            "description": "why the other codes did not change: reason -> codes",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}

STATUS_COUNTS = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": False,
    "properties": {s: {"type": "integer", "minimum": 0} for s in ("available", "reserved", "assigned")},
}


def reserve_operation(max_count: int) -> dict[str, Any]:
    return {
        "parameters": [
            campaign_parameter(),
            {
                "name": "count",
                "in": "query",
                "required": True,
                "schema": {"type": "integer", "minimum": 1, "maximum": max_count, "example": 5},
                "description": f"how many codes: ASCII digits, 1 to {max_count}",
            },
            type_parameter(True, "tm or external"),
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "pattern": _ecma(RESERVATION_KEY_PATTERN)},
                "description": "a reservation key: a retry with the same key returns the same codes",
            },
        ]
    }


def count_operation() -> dict[str, Any]:
    return {
        "parameters": [
            campaign_parameter(),
            type_parameter(True, "tm or external"),
            {
                "name": "status",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "enum": ["available", "reserved", "assigned"]},
                "description": "one status; all three when omitted",
            },
        ]
    }


# A `since` value (core/audit.parse_since): JSON Schema cannot state it whole, so it has a name.
SINCE_FORMAT = "audit-since"
EVENT_ID_PATTERN = "^[0-9]{13}(-[0-9a-f]{12})?$"
EVENT_KINDS = ["uploaded", "reserved", "assigned", "released", "reservation_released"]
_NULLABLE_STRING = {"type": ["string", "null"]}

EVENT = {
    "type": "object",
    "required": ["id", "at", "kind", "campaignId", "actor", "channel", "codes", "details"],
    "properties": {
        "id": {"type": "string", "pattern": EVENT_ID_PATTERN, "description": "sorts as the events' times do; a page's cursor"},
        "at": {"type": "string", "description": "ISO 8601, by the database's clock"},
        "kind": {"type": "string", "enum": EVENT_KINDS},
        "campaignId": {"type": "string"},
        "actor": {"type": "string", "description": "the token's subject (API), or the operator (command line, console)"},
        "channel": {"type": "string", "enum": ["api", "cli", "console"]},
        "requestId": {**_NULLABLE_STRING, "description": "the request's correlation id (API)"},
        "type": {"type": ["string", "null"], "enum": ["tm", "external", None]},
        "reserveId": _NULLABLE_STRING,
        "key": {**_NULLABLE_STRING, "description": "the reservation key (Idempotency-Key) of a reserve"},
        "codes": {
            "type": "object",
            "description": "each code the change named -> what happened to it (reserved, assigned, released) or why not",
            "additionalProperties": {"type": "string"},
        },
        "details": {
            "type": "object",
            "description": "upload: source, sha256, in, inserted, updated, conflicts, duplicates, warnings; "
            "reserve: asked, given, expired; assign and release: in, updated",
        },
    },
}

EVENT_PAGE = {
    "type": "object",
    "required": ["events", "next"],
    "properties": {
        "events": {"type": "array", "items": EVENT, "description": "newest first"},
        "next": {**_NULLABLE_STRING, "description": "pass as `before` for the next page; null on the last"},
    },
}


def events_operation(code_length: int, max_limit: int) -> dict[str, Any]:
    return {
        "parameters": [
            campaign_parameter(),
            {"name": "code", "in": "query", "required": False, "schema": code_schema(code_length),
             "description": "only the changes naming this code, and the upload that last saved it"},
            {"name": "reserveId", "in": "query", "required": False,
             "schema": {"type": "string", "pattern": _ecma(RESERVATION_KEY_PATTERN)}, "description": "only the changes of this reservation"},
            {"name": "since", "in": "query", "required": False,
             "schema": {"type": "string", "format": SINCE_FORMAT, "minLength": 1, "example": "2h"},
             "description": "an ISO 8601 time (UTC unless it says), a date, or a span back from now: 30s, 90m, 2h, 7d, 1w"},
            {"name": "before", "in": "query", "required": False, "schema": {"type": "string", "pattern": EVENT_ID_PATTERN},
             "description": "the cursor: the `next` of the previous page"},
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": max_limit, "default": 100}, "description": "events per page"},
        ]
    }


RESERVATION_ID_HEADER = {
    "Reservation-Id": {"description": "the reserveId that holds these codes (the caller's key, or a dashed UUID v4)", "schema": {"type": "string"}}
}

HEARTBEAT = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "unavailable"]},
        "store": {"type": "string", "description": "only with a supreme token: where the codes live (credentials redacted)"},
    },
}
