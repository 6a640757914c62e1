"""A connected server that stops answering (SIGSTOP): every operation fails with StoreUnavailable
within its bound (pymongo's per-operation timeout, CSOT) instead of hanging; an upload batch
within the batch bound. test_unreachable covers a server that is not there at all."""

from __future__ import annotations

import io
import os
import signal
import time
import uuid

import pytest

from code_console.core.errors import StoreUnavailable
from code_console.core.mongo import connect
from code_console.core.service import CodeService

from tests.conftest import ME, FakeClock
from tests.faults.conftest import report
from tests.faults.test_unreachable import OPERATIONS
from tests.servers import SecantusServer, secantus_binary

pytestmark = pytest.mark.realserver

TIMEOUT = 1.0  # MONGO_TIMEOUT_SECONDS of these stores
BATCH_TIMEOUT = 3.0
SLACK = 10.0  # generous: a bound that shows no hang, not a speed figure (2 shared cores)
POINT_OPERATIONS = [name for name in OPERATIONS if name not in ("upload", "ensure indexes")]


@pytest.fixture(scope="module")
def stopped():
    """A prepared service whose server is then stopped with SIGSTOP (resumed and killed after the module)."""
    if secantus_binary() is None:
        pytest.skip("secantusd-py is not installed (pip install secantusdb)")
    server = SecantusServer(test_commands=False)
    server.start()
    store = connect(server.uri, f"hung_{uuid.uuid4().hex[:8]}", timeout_seconds=TIMEOUT, batch_timeout_seconds=BATCH_TIMEOUT)
    service = CodeService(store, clock=FakeClock())
    service.upload_from_file(ME, "UN", "tm", io.BytesIO(b"U1\nU2\nU3\n"))  # connected, indexes made
    os.killpg(server.proc.pid, signal.SIGSTOP)
    yield service
    os.killpg(server.proc.pid, signal.SIGCONT)
    store.close()
    server.kill()


def _fails_in_time(service, call, bound: float) -> tuple[float, StoreUnavailable]:
    began = time.monotonic()
    with pytest.raises(StoreUnavailable) as err:
        call(service)
    took = time.monotonic() - began
    assert took < bound
    return took, err.value


@pytest.mark.parametrize("operation", POINT_OPERATIONS)
def test_every_point_operation_fails_within_the_timeout_on_a_stopped_server(stopped, operation):
    took, err = _fails_in_time(stopped, OPERATIONS[operation], TIMEOUT + SLACK)
    # Either the command timed out, or the driver's monitor had already given the server up.
    assert str(err).startswith(("MongoDB did not answer in time", "MongoDB is unreachable")), str(err)
    report(f"stopped.{operation.replace(' ', '-')}", attempted=1, acknowledged=0, failed=1, duplicated=0, lost=0, error_s=took)


def test_an_upload_batch_fails_within_its_bound_on_a_stopped_server(stopped):
    data = io.BytesIO("".join(f"H{i:05d}\n" for i in range(2_000)).encode())
    took, err = _fails_in_time(stopped, lambda s: s.upload_from_file(ME, "UN", "tm", data), BATCH_TIMEOUT + SLACK)
    # A batch outlives the driver's heartbeat: when the monitor gives the server up, it cancels
    # the operations in flight on its connections ("connection failed: operation cancelled").
    assert str(err).startswith(("MongoDB did not answer in time", "MongoDB is unreachable", "MongoDB connection failed")), str(err)
    report("stopped.upload", attempted=1, acknowledged=0, failed=1, duplicated=0, lost=0, error_s=took)
