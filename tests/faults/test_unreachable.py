"""MongoDB unreachable: every operation fails within the configured timeout with a clear
StoreUnavailable, and the same service recovers once a server answers on that address."""

from __future__ import annotations

import io
import time

import pytest

from code_console.cli import main
from code_console.core.errors import StoreUnavailable
from code_console.core.mongo import connect
from code_console.core.service import CodeService

from tests.conftest import ME, FakeClock
from tests.faults.conftest import report
from tests.servers import SecantusServer, free_port, secantus_binary

BOUND = 15.0  # generous: the configured timeout is 1 s

OPERATIONS = {
    "upload": lambda s: s.upload_from_file(ME, "UN", "tm", io.BytesIO(b"U1\nU2\n")),
    "reserve": lambda s: s.reserve(ME, "UN", "tm", 3).codes,
    "reserve with key": lambda s: s.reserve(ME, "UN", "tm", 3, key="k-1").codes,
    "assign": lambda s: s.assign(ME, "UN", ["U1"]),
    "release": lambda s: s.release(ME, "UN", ["U1"]),
    "release reservation": lambda s: s.release_reservation(ME, "UN", "k-1"),
    "count": lambda s: s.count(ME, "UN", "tm"),
    "campaigns": lambda s: s.campaigns(ME),
    "lookup": lambda s: s.lookup(ME, "U1"),
    "reservation": lambda s: s.reservation(ME, "UN", "k-1"),
    "ping": lambda s: s.store.ping(),
    "ensure indexes": lambda s: s.store.prepare(),
}


@pytest.fixture
def dead_address():
    port = free_port()  # nothing listens here
    return port, f"mongodb://127.0.0.1:{port}/?directConnection=true"


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_every_operation_fails_within_the_timeout(dead_address, operation):
    _, uri = dead_address
    store = connect(uri, "unreachable", timeout_seconds=1, batch_timeout_seconds=1)
    service = CodeService(store, clock=FakeClock())
    began = time.monotonic()
    with pytest.raises(StoreUnavailable) as err:
        OPERATIONS[operation](service)
    took = time.monotonic() - began
    store.close()
    assert took < BOUND
    assert str(err.value).startswith(f"MongoDB is unreachable ({uri})")
    if operation == "reserve":
        assert "pass a reservation key" in str(err.value)
    if operation == "reserve with key":
        assert "retrying with the same key 'k-1' is safe" in str(err.value)
    report(f"unreachable.{operation.replace(' ', '-')}", attempted=1, acknowledged=0, failed=1, duplicated=0, lost=0, error_s=took)


@pytest.mark.realserver
def test_the_same_service_recovers_when_the_server_returns(dead_address):
    if secantus_binary() is None:
        pytest.skip("secantusd-py is not installed")
    port, uri = dead_address
    store = connect(uri, "unreachable", timeout_seconds=1, batch_timeout_seconds=5)
    service = CodeService(store, clock=FakeClock())
    with pytest.raises(StoreUnavailable):
        service.count(ME, "UN", "tm")

    server = SecantusServer()
    server.port = port  # the address the service was given
    server.start()
    try:
        up = time.monotonic()
        store.prepare()
        assert service.upload_from_file(ME, "UN", "tm", io.BytesIO(b"U1\nU2\nU3\n")).to_dict() == {"in": 3, "inserted": 3, "updated": 0}
        recovery = time.monotonic() - up
        assert sorted(service.reserve(ME, "UN", "tm", 2, key="k-1").codes) == sorted(service.reserve(ME, "UN", "tm", 2, key="k-1").codes)
        assert service.count(ME, "UN", "tm") == {"available": 1, "reserved": 2, "assigned": 0}
    finally:
        store.close()
        server.kill()
    report("unreachable.recovery", attempted=4, acknowledged=3, failed=1, duplicated=0, lost=0, recovery_s=recovery)


def test_cli_exits_5_with_a_clear_message_within_the_default_timeout(dead_address, monkeypatch, capsys):
    _, uri = dead_address
    monkeypatch.setenv("CODE_CONSOLE_MONGO_URI", uri)
    monkeypatch.delenv("CODE_CONSOLE_MONGO_TIMEOUT_SECONDS", raising=False)
    began = time.monotonic()
    status = main(["count", "UN", "--type", "tm"])
    took = time.monotonic() - began
    assert status == 5
    store_line, err = capsys.readouterr().err.split("\n", 1)
    assert store_line == f"code-console: store: {uri}"
    assert err.startswith(f"code-console: store_unavailable: MongoDB is unreachable ({uri})")
    assert 4 < took < 30  # the default 5 s timeout, not a hang and not an instant give-up
    report("unreachable.cli", attempted=1, acknowledged=0, failed=1, duplicated=0, lost=0, error_s=took)
