"""Every query the core sends is served by an index on a real server (explain: no COLLSCAN).

The queries are not listed by hand: a full workload runs through CodeService with command
monitoring on, and every distinct filter it sent is explained. SecantusDB's explain of an
update does not plan; its update path uses the same index picker as find, so an update's
filter is explained as a find.
"""

import io
import json
import uuid

import pytest
from pymongo import monitoring

from code_console.core.mongo import connect
from code_console.core.service import CodeService

from tests.conftest import ME

pytestmark = pytest.mark.realserver


class Recorder(monitoring.CommandListener):
    def __init__(self) -> None:
        self.commands: list[tuple[str, dict]] = []

    def started(self, event):
        self.commands.append((event.command_name, dict(event.command)))

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


def stages(plan: dict) -> list[str]:
    out = [plan.get("stage", "")]
    if "inputStage" in plan:
        out += stages(plan["inputStage"])
    for p in plan.get("inputStages", []):
        out += stages(p)
    return out


def shape(flt) -> str:
    """A filter with its values blanked: the query shape."""
    if isinstance(flt, dict):
        return "{" + ",".join(f"{k}:{shape(v) if k.startswith('$') or isinstance(v, dict) else '?'}" for k, v in sorted(flt.items())) + "}"
    if isinstance(flt, list):
        return "[...]"
    return "?"


def run_workload(service: CodeService, clock) -> None:
    """Every operation of the core, including the paths only re-uploads and expiry reach."""
    data = "".join(f"P{i:04d}\n" for i in range(120)).encode()
    service.upload_from_file(ME, "C1", "tm", io.BytesIO(data))
    service.upload_from_file(ME, "C1", "tm", io.BytesIO(data))  # re-upload: the update path
    service.upload_from_file(ME, "C2", "external", io.BytesIO(b"X1\nX2\n"))
    first = service.reserve(ME, "C1", "tm", 30).codes
    service.assign(ME, "C1", first[:10])
    service.release(ME, "C1", first[10:15])
    clock.advance(hours=25)
    again = service.reserve(ME, "C1", "tm", 100).codes  # takes fresh codes, then expired ones
    rid = service.lookup(ME, again[0], "C1")[0].reserve_id
    service.reserve(ME, "C1", "tm", 5, key="retry-1").codes
    service.reserve(ME, "C1", "tm", 5, key="retry-1").codes
    service.release_reservation(ME, "C1", rid)
    service.count(ME, "C1", "tm")
    service.campaigns(ME)
    service.lookup(ME, "P0001")
    service.usage(ME, "C1", "24h")
    list(service.export(ME, "C1", "tm").records)
    service.store.page("C1", "P0050", 10)  # an export's later pages (the campaign above fits in one)


def collection_scans(database, commands: list[tuple[str, dict]]) -> tuple[int, list[str]]:
    """(distinct query shapes seen, those that a COLLSCAN serves), each explained with the hint it was sent with."""
    filters: dict[str, tuple[str, str, dict, object]] = {}
    collations: dict[str, dict] = {}  # a find sent with a collation is explained with it

    def seen(kind: str, collection: str, flt: dict, hint, collation: dict | None = None) -> None:
        key = f"{collection} {shape(flt)} {hint} {collation}"
        filters.setdefault(key, (kind, collection, flt, hint))
        if collation:
            collations[key] = collation

    for name, cmd in commands:
        collection = cmd.get(name)
        if name == "find":
            seen("find", collection, cmd.get("filter", {}), cmd.get("hint"), cmd.get("collation"))
        elif name == "update":
            for u in cmd["updates"]:
                seen("update", collection, u["q"], u.get("hint"))
        elif name == "delete":
            for d in cmd["deletes"]:
                seen("delete", collection, d["q"], d.get("hint"))
        elif name == "aggregate":
            match = cmd["pipeline"][0].get("$match", {})
            seen("aggregate", collection, match, cmd.get("hint"))
        elif name in ("insert", "createIndexes", "listIndexes", "endSessions", "ping", "hello", "getMore", "killCursors"):
            continue
        else:
            raise AssertionError(f"unexpected command {name}: add its explain here")
    scans = []
    for key, (kind, collection, flt, hint) in filters.items():
        cursor = database[collection].find(flt)
        if key in collations:
            cursor = cursor.collation(collations[key])
        if hint is not None:
            cursor = cursor.hint(list(hint.items()) if isinstance(hint, dict) else hint)
        plan = cursor.explain()["queryPlanner"]["winningPlan"]
        if "COLLSCAN" in stages(plan):
            scans.append(f"{kind} {collection} {json.dumps(flt, default=str)} hint={hint}: {stages(plan)}")
    return len(filters), scans


def test_every_query_of_a_full_workload_uses_an_index(secantus, clock):
    recorder = Recorder()
    store = connect(secantus.uri, f"plans_{uuid.uuid4().hex[:8]}", timeout_seconds=10, batch_timeout_seconds=60, event_listeners=[recorder])
    store.prepare()
    run_workload(CodeService(store, clock=clock, batch_size=50), clock)
    shapes, scans = collection_scans(store.collection.database, recorder.commands)
    store.collection.drop()
    store.close()
    assert shapes >= 12
    assert scans == []
