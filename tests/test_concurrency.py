"""Never hand one code to two callers: 8 processes reserving from one SecantusDB, demand > stock."""

import io
import uuid

import pytest

from code_console.core.mongo import connect
from code_console.core.service import CodeService

from tests.conftest import ME
from tests.reserve_worker import hammer
from tests.storm import check_storm, run_storm

pytestmark = pytest.mark.realserver

PROCESSES = 8
CALLS = 25
POOL = 1_000


def test_processes_never_share_a_code(secantus):
    db = f"conc_{uuid.uuid4().hex[:10]}"
    store = connect(secantus.uri, db, timeout_seconds=30, batch_timeout_seconds=120)
    store.prepare()
    service = CodeService(store)
    service.upload_from_file(ME, "HOT", "tm", io.BytesIO("".join(f"H{i:05d}\n" for i in range(POOL)).encode()))

    calls = run_storm(hammer, lambda seed: (secantus.uri, db, "HOT", CALLS, seed), PROCESSES, 600)
    stored = {d["_id"]["code"]: d.get("reserveId") for d in store.collection.find({"_id.campaign_id": "HOT"}, {"reserveId": 1})}
    check_storm(f"processes={PROCESSES}", calls, PROCESSES * CALLS, POOL, stored, service, "HOT")
    store.collection.drop()
    store.close()


def test_processes_racing_on_the_same_keys_get_one_answer_per_key(secantus):
    from tests.test_sqlite_concurrency import race_on_keys

    db = f"keys_{uuid.uuid4().hex[:10]}"
    store = connect(secantus.uri, db, timeout_seconds=30, batch_timeout_seconds=120)
    store.prepare()
    race_on_keys(("mongo", secantus.uri, db), store)
    store.collection.database.client.drop_database(db)
    store.close()
