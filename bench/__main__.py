"""`make bench`: every benchmark, a table, then one line of key=value figures.

Times are noisy on shared machines; commands, bytes and plans are not. Upload throughput
is CPU time of one process (one core), so other load on the machine inflates it little.
"""

from __future__ import annotations

import sys
import uuid

from bench import count as count_bench, embedded as embedded_bench, reserve as reserve_bench, upload as upload_bench
from bench.common import secantus_server


def collscans(uri: str) -> tuple[int, int]:
    from code_console.core.mongo import connect
    from code_console.core.service import CodeService

    from tests.conftest import FakeClock
    from tests.test_plans import Recorder, collection_scans, run_workload

    recorder = Recorder()
    store = connect(uri, f"bench_{uuid.uuid4().hex[:8]}", timeout_seconds=30, batch_timeout_seconds=60, event_listeners=[recorder])
    store.prepare()
    clock = FakeClock()
    run_workload(CodeService(store, clock=clock, batch_size=50), clock)
    shapes, scans = collection_scans(store.collection, recorder.commands)
    store.collection.drop()
    store.close()
    return shapes, len(scans)


def main() -> int:
    rows: list[tuple[str, str]] = []

    def row(name: str, value: str) -> None:
        rows.append((name, value))
        print(f"  {name:<46} {value}", file=sys.stderr, flush=True)

    print("running benchmarks (a few minutes)...", file=sys.stderr)
    up = upload_bench.run()
    row("upload: codes (file MB)", f"{up['codes']:,} ({up['file_mb']:.0f} MB)")
    row("upload: codes/s, one core (CPU time)", f"{up['codes_per_s']:,.0f}")
    row("upload: codes/s, wall clock", f"{up['codes_per_wall_s']:,.0f}")
    row("upload: peak RSS growth MB", f"{up['rss_growth_mb']:.1f}")
    row("upload: commands per 50,000-code batch", f"{up['commands_per_batch']:.1f}")

    emb = embedded_bench.run()
    row("embedded: upload 100,000 codes, s", f"{emb['upload_s']:.2f}")
    row("embedded: refresh all counts, ms", f"{emb['refresh_ms']:.1f}")

    with secantus_server() as server:
        unc = reserve_bench.uncontended(server.uri)
        row("reserve (SecantusDB): commands/call uncontended", f"{unc['cmds_mean']:.2f} (max {unc['cmds_max']})")
        row("reserve (SecantusDB): calls/s uncontended", f"{unc['calls_per_s']:.1f}")
        con = reserve_bench.contended(server.uri)
        row("reserve x8 processes: calls, codes, duplicates", f"{con['calls']}, {con['codes']}, {con['duplicates']}")
        row("reserve x8 processes: fulfilment %", f"{con['fulfilment_pct']:.1f}")
        row("reserve x8 processes: commands/call p50/p90/max", f"{con['cmds_p50']}/{con['cmds_p90']}/{con['cmds_max']}")
        row("reserve x8 processes: commands/call histogram", str(con["cmds_histogram"]))
        row("reserve x8 processes: calls/s", f"{con['calls_per_s']:.1f}")
        cnt = count_bench.run(server.uri)
        for size, fig in cnt.items():
            row(f"count (SecantusDB) at {size:,} codes: commands, ms", f"{fig['cmds']}, {fig['ms_median']:.1f}")
            row(f"upload (SecantusDB) of {size:,} new codes: codes/s", f"{fig['upload_codes_per_s']:,.0f}")
        shapes, scans = collscans(server.uri)
        row("plans: query shapes, collection scans", f"{shapes}, {scans}")

    print()
    print("| figure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print(
        f"upload_codes_per_s={up['codes_per_s']:.0f} upload_peak_rss_mb={up['rss_growth_mb']:.1f} "
        f"upload_cmds_per_batch={up['commands_per_batch']:.1f} reserve_cmds_uncontended={unc['cmds_mean']:.2f} "
        f"reserve_fulfilment_pct={con['fulfilment_pct']:.1f} count_cmds={max(f['cmds'] for f in cnt.values())} "
        f"collscans={scans}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
