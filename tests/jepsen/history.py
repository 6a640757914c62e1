"""A history checker in the manner of Jepsen for "one code, one holder".

Input: the JSON lines of every worker (tests/jepsen/worker.py): per operation an `invoke`, then
`ok`, `fail` or `info` (indeterminate); times are the database's clock as each process knows it,
epoch seconds. Plus the store's final state ({code: {"reserveId", "assigned"}}), the number of
codes uploaded, the final counts and the reservation TTL (seconds).

Why one timeline works: a process stamps `date.reserved` with its own estimate of the
database's clock, taken after it recorded the invoke, and another process takes the code only
when its own estimate, taken before it records ok, is at least stamp + TTL. So in the recorded
timeline a hold lasts at least from the holder's invoke to invoke + TTL, exactly (whatever
the estimates' errors, which bound how long that is in real time). MARGIN absorbs float rounding.
A hold ended by a release is another matter: the release's time is on the releaser's estimate
and the next grant's on its own, so they compare within twice the processes' largest clock
error (`uncertainty`, each worker reports it); one process's operations compare by their order.

Checked:
- duplicated: codes handed to a second caller while a first still held them. A hold of code c
  by reservation R (a grant: an ok reserve that returned c) lasts until R's invoke + TTL, unless
  ended earlier by a release of c naming R, by a release not naming any reservation (the spec's
  unguarded call, which frees whatever is reserved), and never ends once R's holder assigned c;
- lost: a code a caller got that the store does not show under its reserveId (nor released or
  assigned by it), or a code the store shows under a reservation or assigned with no operation
  to explain it;
- misassigned: a code assigned by an operation naming reservation R while another reservation
  had taken the code after R (or R never got it), or assigned by two operations;
- conservation: every count read, and the final count, has available + reserved + assigned =
  uploaded; the final assigned count equals the stored assigned codes;
- keys: every ok reserve with one key got the same codes.
- stranded (reported, not a failure): unassigned codes held by a reservation that no caller was
  told about (an indeterminate or failed reserve); they come back when it expires.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

MARGIN = 0.002
INF = float("inf")


@dataclass
class Op:
    process: int
    op: int
    f: str
    value: dict
    invoked: float
    type: str = "info"  # ok / fail / info (no completion recorded is indeterminate too)
    completed: float = INF
    answer: dict = field(default_factory=dict)
    late: bool = False


@dataclass
class Grant:
    code: str
    rid: str
    process: int
    invoked: float
    ok: float
    op: int = 0


@dataclass
class Report:
    attempted: int = 0
    ok: int = 0
    failed: int = 0
    indeterminate: int = 0
    late: int = 0
    duplicated: int = 0
    lost: int = 0
    stranded: int = 0
    misassigned: int = 0
    unconserved: int = 0
    key_disagreements: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not (self.duplicated or self.lost or self.misassigned or self.unconserved or self.key_disagreements)

    def row(self) -> dict:
        return {k: getattr(self, k) for k in ("attempted", "ok", "failed", "indeterminate", "late", "duplicated", "lost",
                                              "stranded", "misassigned", "unconserved", "key_disagreements")} | {"valid": self.valid}


def read_history(paths: list[Path]) -> tuple[list[Op], list[dict]]:
    """Operations (invoke paired with its completion) and each process's start/end lines."""
    ops: dict[tuple[int, int], Op] = {}
    meta: list[dict] = []
    for path in paths:
        for line in Path(path).read_text().splitlines():
            rec = json.loads(line)
            kind = rec["type"]
            if kind in ("start", "end"):
                meta.append(rec)
            elif kind == "trace":
                continue
            elif kind == "invoke":
                ops[(rec["process"], rec["op"])] = Op(rec["process"], rec["op"], rec["f"], rec["value"], rec["time"], late=rec.get("late", False))
            else:
                op = ops[(rec["process"], rec["op"])]
                op.type, op.completed, op.answer = kind, rec["time"], rec["value"] if kind == "ok" else {"error": rec.get("error")}
    return sorted(ops.values(), key=lambda o: o.invoked), meta


def _changed(op: Op) -> set[str]:
    """The codes an ok assign or release changed (the ones asked for, less the unchanged)."""
    if op.type != "ok":
        return set()
    unchanged = {c for codes in op.answer.get("unchanged", {}).values() for c in codes}
    asked = op.value["codes"] if op.value.get("codes") is not None else []
    return set(asked) - unchanged


def _touches(op: Op, code: str, rid: str) -> bool:
    codes = op.value.get("codes")
    if codes is None:  # a whole reservation
        return op.value.get("reserveId") == rid
    return code in codes


def check(ops: list[Op], final: dict[str, dict], uploaded: int, final_counts: dict, ttl: float, uncertainty: float = 0.0) -> Report:
    """`uncertainty`: the largest error of a process's estimate of the database's clock (seconds).
    Two processes' recorded times compare within twice that; an expiry needs no such slack (see
    the module's docstring)."""
    skew = MARGIN + 2 * uncertainty
    rep = Report(attempted=len(ops))
    rep.ok = sum(o.type == "ok" for o in ops)
    rep.failed = sum(o.type == "fail" for o in ops)
    rep.indeterminate = sum(o.type == "info" for o in ops)
    rep.late = sum(o.late for o in ops)

    # Grants: the first ok answer of each reservation for each code.
    grants: dict[str, list[Grant]] = {}
    told: set[str] = set()
    by_key: dict[str, set[tuple]] = {}
    for o in ops:
        if o.f != "reserve" or o.type != "ok":
            continue
        rid = o.answer["reserveId"]
        told.add(rid)
        if o.value.get("key"):
            by_key.setdefault(o.value["key"], set()).add(tuple(o.answer["codes"]))
        for code in o.answer["codes"]:
            mine = grants.setdefault(code, [])
            if not any(g.rid == rid for g in mine):
                mine.append(Grant(code, rid, o.process, o.invoked, o.completed, o.op))
    rep.key_disagreements = sum(len(answers) > 1 for answers in by_key.values())
    maybe = {o.value["key"] for o in ops if o.f == "reserve" and o.type != "ok" and o.value.get("key")}
    changes = [o for o in ops if o.f in ("assign", "release")]

    def after(o: Op, g: Grant) -> bool:
        """Whether `o` may have run after grant `g` (one process's operations are in order; another's
        compare by time, recorded to the millisecond)."""
        return o.op > g.op if o.process == g.process else o.completed >= g.invoked

    def end_of(g: Grant) -> tuple[float, float]:
        """When g's hold ended, and the slack comparing that time with another process's."""
        end, slack = g.invoked + ttl, MARGIN  # expiry: compared on the holder's own stamp
        for o in changes:
            if not after(o, g) or not _touches(o, g.code, g.rid):
                continue
            named = o.value.get("reserveId")
            if o.f == "release" and (named == g.rid or named is None) and max(o.invoked, g.invoked) < end:
                end, slack = max(o.invoked, g.invoked), skew
            elif o.f == "assign" and o.value.get("holder") == g.rid and g.code in _changed(o):
                return INF, 0.0  # assigned by its holder: theirs for good
        return end, slack

    for code, gs in grants.items():
        gs.sort(key=lambda g: g.ok)
        ends = [end_of(g) for g in gs]

        def overlap(i: int, j: int) -> bool:
            """Grant j (ok later) came while grant i still held the code, in whichever order
            their compare-and-sets ran: j could have run first only if it began before i ended
            (within the clocks' bound), and then i must have come while j held the code."""
            (end_i, slack_i), (end_j, slack_j) = ends[i], ends[j]
            if not gs[j].ok < end_i - slack_i:
                return False
            j_first_possible = gs[j].invoked <= gs[i].ok + skew
            return not j_first_possible or gs[i].ok < end_j - slack_j

        for j, later in enumerate(gs):
            clash = [g for i, g in enumerate(gs[:j]) if overlap(i, j)]
            if clash:
                rep.duplicated += 1
                rep.problems.append(f"duplicated {code}: {clash[0].rid} (p{clash[0].process}, invoked {clash[0].invoked:.3f}) "
                                    f"still held it when {later.rid} (p{later.process}) got it at {later.ok:.3f}")
                break

    # Assigns: by a caller that held the code when it named its reservation; never twice.
    assigned_by: dict[str, list[Op]] = {}
    for o in changes:
        if o.f != "assign":
            continue
        for code in _changed(o):
            assigned_by.setdefault(code, []).append(o)
            rid = o.value.get("reserveId")
            if rid is None:
                continue
            gs = grants.get(code, [])
            mine = [g for g in gs if g.rid == rid]
            # Another reservation that got the code after this one, before the assign: it replaced the reserveId.
            took_after = mine and [g for g in gs if g.rid != rid and mine[0].ok + skew < g.ok < o.invoked - skew]
            if not mine or took_after:
                rep.misassigned += 1
                rep.problems.append(f"misassigned {code}: assigned naming {rid} at {o.invoked:.3f}, which did not hold it")
    for code, by in assigned_by.items():
        if len(by) > 1:
            rep.misassigned += 1
            rep.problems.append(f"misassigned {code}: assigned by {len(by)} operations")

    # The final state against the history.
    maybe_assigned = {c for o in changes if o.f == "assign" and o.type == "info" for c in (o.value.get("codes") or [])}
    for code, state in final.items():
        gs = grants.get(code, [])
        stored_rid, assigned = state.get("reserveId"), state.get("assigned") is not None
        if assigned and code not in assigned_by and code not in maybe_assigned:
            rep.lost += 1
            rep.problems.append(f"lost {code}: assigned, by no operation")
            continue
        if not gs:
            if stored_rid is None:
                continue
            if stored_rid in maybe or stored_rid not in told:
                rep.stranded += not assigned
                continue
            rep.lost += 1
            rep.problems.append(f"lost {code}: under {stored_rid}, which never got it")
            continue
        # The last grants: any of those within the clocks' bound of the last may be the last.
        lasts = [g for g in gs if g.ok >= gs[-1].ok - skew]
        last = gs[-1]
        if stored_rid in {g.rid for g in lasts}:
            continue
        released = any(o.f == "release" and _touches(o, code, g.rid) and after(o, g)
                       and o.value.get("reserveId") in (None, g.rid) for o in changes for g in lasts)
        if stored_rid is None and released:
            continue
        if stored_rid is not None and stored_rid not in told:
            rep.stranded += not assigned  # taken by a reserve whose caller never heard back
            continue
        rep.lost += 1
        rep.problems.append(f"lost {code}: {last.rid} got it last but the store shows {stored_rid!r}")

    # Conservation.
    for o in ops:
        if o.f == "count" and o.type == "ok":
            counts = o.answer["counts"]
            if sum(counts.values()) != uploaded:
                rep.unconserved += 1
                rep.problems.append(f"unconserved: a count read {counts}, {uploaded} uploaded")
    if sum(final_counts.values()) != uploaded or final_counts["assigned"] != sum(s.get("assigned") is not None for s in final.values()):
        rep.unconserved += 1
        rep.problems.append(f"unconserved: final counts {final_counts}, {uploaded} uploaded")
    return rep


def table(rows: list[tuple[str, str, Report]]) -> str:
    """One line per experiment: its name, clock offsets, and the report's figures."""
    head = ("experiment", "offsets", "attempted", "ok", "failed", "indet.", "late", "duplicated", "lost", "stranded",
            "misassigned", "unconserved", "valid")
    lines = [head]
    for name, offsets, r in rows:
        lines.append((name, offsets, r.attempted, r.ok, r.failed, r.indeterminate, r.late, r.duplicated, r.lost, r.stranded,
                      r.misassigned, r.unconserved, "yes" if r.valid else "NO"))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    return "\n".join(" | ".join(str(v).ljust(w) for v, w in zip(line, widths)) for line in lines)
