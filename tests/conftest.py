"""Shared fixtures.

Stores: "embedded" (the SQLite default), "mongomock" (MongoStore's queries in-process, fast)
and "secantus" (MongoStore against SecantusDB over a real socket). The behavioural suite runs
against every one of them. S3: moto's mock_aws for unit tests, moto's threaded server over
HTTP for real-server tests.
"""

from __future__ import annotations

import os
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pymongo
import pytest

from code_console.core.models import LOCAL_OPERATOR
from code_console.core.mongo import MongoStore, connect
from code_console.core.service import CodeService

from tests.servers import S3Server, SecantusServer, secantus_binary
from tests.stores import embedded_store

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
# Never let a test reach a real AWS account or a developer's config.
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

ME = LOCAL_OPERATOR
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)


class FakeClock:
    """An injectable clock that only moves when told to."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now = self.now + timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _require_real_servers() -> bool:
    # CI must run the real-server tests; elsewhere they may skip if the server is missing.
    return bool(os.environ.get("CI"))


@pytest.fixture(scope="session")
def secantus() -> SecantusServer:
    if secantus_binary() is None:
        if _require_real_servers():
            pytest.fail("secantusd-py is not installed, and CI must run the real-server tests")
        pytest.skip("secantusd-py is not installed (pip install secantusdb)")
    server = SecantusServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_server() -> S3Server:
    server = S3Server()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(s3_server):
    """A fresh bucket on the threaded moto server; yields (boto3 client, bucket name)."""
    from code_console.core.objects import s3_client

    client = s3_client(endpoint_url=s3_server.endpoint, region="us-east-1", timeout_seconds=5)
    bucket = f"codes-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    yield client, bucket


def mongomock_store() -> MongoStore:
    """MongoStore's own queries over mongomock, behind one lock (mongomock is not thread-safe),
    with the few operations mongomock 4.3 lacks supplied by tests/mongomock_compat.py."""
    import mongomock

    from tests.mongomock_compat import compatible

    client = mongomock.MongoClient(tz_aware=True)
    return MongoStore(compatible(client["code_console"]["codes"]), label="mongomock", lock=threading.RLock())


def secantus_store(server: SecantusServer) -> MongoStore:
    store = connect(server.uri, f"t_{uuid.uuid4().hex[:12]}", timeout_seconds=10, batch_timeout_seconds=120)
    store.prepare()
    return store


@pytest.fixture(params=["embedded", "mongomock", pytest.param("secantus", marks=pytest.mark.realserver)])
def store(request):
    """Each store: the embedded SQLite one, MongoStore on mongomock, MongoStore on SecantusDB."""
    if request.param == "embedded":
        s = embedded_store()
        yield s
        s.close()
    elif request.param == "mongomock":
        s = mongomock_store()
        s.prepare()
        yield s
    else:
        server = request.getfixturevalue("secantus")
        s = secantus_store(server)
        yield s
        s.close()  # a test may have closed it already: closing twice is safe
        with pymongo.MongoClient(server.uri, serverSelectionTimeoutMS=10_000) as client:
            client.drop_database(s.collection.database.name)  # codes, keys, events, alerts


@pytest.fixture
def mongo_store(secantus):
    """A MongoStore on its own database of the session's SecantusDB."""
    s = secantus_store(secantus)
    yield s
    s.collection.drop()
    s.close()


@pytest.fixture
def service(store, clock) -> CodeService:
    return CodeService(store, clock=clock)
