"""schemathesis against the app's own OpenAPI document, over HTTP on 127.0.0.1, with a supreme
token: every check (server errors, response schema conformance, positive data accepted,
negative data rejected, status codes, headers, auth), a bounded number of examples per operation.

Two things JSON Schema cannot state are named in the document and handled here:
- a code (format "promo-code"): the core's code rule; generated from strings the core accepts.
- a text/csv body: its rules (dialects, header rows, sep= lines) are the CSV reader's; CSV
  uploads are fuzzed by tests/faults/test_bad_input.py and the CSV tests instead, so the cases
  of that media type are skipped here.
"""

from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import (  # noqa: E402
    HealthCheck,
    settings as hypothesis_settings,
    strategies as st,  # noqa: E402
)
from schemathesis.checks import CHECKS, load_all_checks  # noqa: E402

from code_console.core.errors import InvalidInput  # noqa: E402
from code_console.core.objects import S3Objects  # noqa: E402
from code_console.core.service import CodeService, parse_codes  # noqa: E402

from tests.api.conftest import hs256, running, settings_for  # noqa: E402
from tests.stores import embedded_store  # noqa: E402

load_all_checks()
ALL_CHECKS = CHECKS.get_all()

# Per operation and phase; SCHEMATHESIS_MAX_EXAMPLES=500 for a longer run.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "60"))
CODE_MAX_LENGTH = 128


def _accepted_code(text: str) -> bool:
    try:
        parse_codes([text], CODE_MAX_LENGTH)
        return True
    except InvalidInput:
        return False


schemathesis.openapi.format("promo-code", st.text(min_size=1, max_size=CODE_MAX_LENGTH).filter(_accepted_code))


@schemathesis.hook
def filter_case(context, case) -> bool:
    return case.media_type != "text/csv"


@schemathesis.auth()
class SupremeToken:
    """A supreme token on every request, given the way schemathesis knows it is the real credential
    (its auth checks then probe with it removed or replaced, and its negative cases keep their
    own Authorization header)."""

    def get(self, case, context):
        return _supreme_token()

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


# (operation, generation mode) -> cases sent: proof that both modes ran everywhere.
SENT: dict[tuple[str, str], int] = {}


@schemathesis.hook
def after_call(context, case, response) -> None:
    mode = case.meta.generation.mode.value if case.meta is not None else "explicit"
    SENT[(case.operation.label, mode)] = SENT.get((case.operation.label, mode), 0) + 1
    if response.status_code == 200:
        ANSWERED.add(case.operation.label)


# Operations that answered 200 at least once: the token was taken as supreme.
ANSWERED: set[str] = set()


@pytest.fixture(scope="module")
def live_api(s3_server):
    from code_console.core.objects import s3_client

    client = s3_client(endpoint_url=s3_server.endpoint, region="us-east-1", timeout_seconds=5)
    client.create_bucket(Bucket="schemathesis-codes")
    service = CodeService(embedded_store(), S3Objects(client, "schemathesis-codes"), reserve_max_count=500, code_max_length=CODE_MAX_LENGTH)
    with running(service, settings_for(api_max_json_bytes=1024 * 1024)) as api:
        yield api


schema = schemathesis.pytest.from_fixture("openapi_schema")


@pytest.fixture(scope="module")
def openapi_schema(live_api):
    return schemathesis.openapi.from_url(f"{live_api.base}/openapi.json")


def _supreme_token() -> str:
    import time

    return hs256(exp=int(time.time()) + 3600)


@pytest.mark.realserver
@schema.parametrize()
@hypothesis_settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_openapi_document(case):
    case.call_and_validate(checks=list(ALL_CHECKS))


def test_both_generation_modes_ran_for_every_operation():
    if not SENT:
        pytest.skip("runs after the schemathesis test in the same session")
    operations = {label for label, _ in SENT}
    expected = {
        "POST /{campaignId}/codes", "GET /{campaignId}/reserve", "POST /{campaignId}/assign", "POST /{campaignId}/release", "GET /{campaignId}/codes/count"
    }
    assert expected <= operations
    for label in operations:
        modes = {mode for op, mode in SENT if op == label}
        assert "positive" in modes, (label, modes)
    assert {"GET /{campaignId}/reserve", "POST /{campaignId}/assign", "POST /{campaignId}/release", "GET /{campaignId}/codes/count"} <= ANSWERED
    print(f"\nschemathesis: {sum(SENT.values())} requests: {dict(sorted(SENT.items()))}")
