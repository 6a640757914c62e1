"""`make bench`: the product beside the original's algorithms and beside the limit, in one run.

On ONE SecantusDB (bench/compare.py, bench/original.py): upload of new codes, re-upload, a
reserve storm with demand above stock and a pool of expired codes, the count of three
statuses, the campaign listing at 10/100/300 campaigns, and the collection scans of a full
workload. Then the upload pipeline's client CPU against a minimal csv.reader + bson.encode
loop, and its peak RSS on 5 M codes (a BSON-only sink: bench/upload.py).

Prints a table (figure | product | original/limit | ratio) and a last line of key=value pairs.
Wall-clock figures are noisy on a shared machine; commands, codes and plans are not.
Targets (issue 16): upload_vs_original <= 1.0, reupload_vs_original <= 1.0,
reserve_storm_vs_original <= 0.5, reserve_fulfilment_pct = 100, upload_cpu_vs_limit <= 1.5,
listing_cmds_300 <= 2, count_cmds = 1, upload_peak_rss_mb <= 100, collscans = 0.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid

from bench import compare, reserve as reserve_bench, upload as upload_bench
from bench.common import secantus_server


def collscans(uri: str) -> tuple[int, int]:
    """(query shapes, shapes a collection scan serves) over a full workload (tests/test_plans.py)."""
    from code_console.core.mongo import connect
    from code_console.core.service import CodeService

    from tests.conftest import FakeClock
    from tests.test_plans import Recorder, collection_scans, run_workload

    recorder = Recorder()
    store = connect(uri, f"bench_{uuid.uuid4().hex[:8]}", timeout_seconds=30, batch_timeout_seconds=60, event_listeners=[recorder])
    store.prepare()
    clock = FakeClock()
    run_workload(CodeService(store, clock=clock, batch_size=50), clock)
    shapes, scans = collection_scans(store.collection.database, recorder.commands)
    store.collection.database.client.drop_database(store.collection.database.name)
    store.close()
    return shapes, len(scans)


SIZES = {
    # name: (upload codes, storm processes, calls, count, fresh, expired, count codes, listing sizes, cpu codes, rss codes)
    "full": dict(codes=5_000, processes=8, calls=25, count=5, fresh=400, expired=400, count_codes=5_000,
                 listing=(10, 100, 300), cpu_codes=500_000, rss_codes=5_000_000),
    "smoke": dict(codes=200, processes=2, calls=4, count=5, fresh=15, expired=15, count_codes=200,
                  listing=(3, 6, 9), cpu_codes=20_000, rss_codes=20_000),
}


def run(size: str = "full", out=sys.stdout, log=sys.stderr) -> dict[str, float]:
    p = SIZES[size]
    rows: list[tuple[str, str, str, str]] = []

    def row(figure: str, product: str, other: str, ratio: float | None = None) -> None:
        cells = (figure, product, other, f"{ratio:.2f}" if ratio is not None else "")
        rows.append(cells)
        print(f"  {figure:<58} {product:>16} {other:>16} {cells[3]:>6}", file=log, flush=True)

    began = time.perf_counter()
    print("running benchmarks (about 10 minutes at full size)...", file=log, flush=True)
    with secantus_server() as server:
        up = compare.upload(server.uri, p["codes"])
        n = f"{p['codes']:,}"
        upload_ratio = up["upload"]["product"] / up["upload"]["original"]
        reupload_ratio = up["reupload"]["product"] / up["reupload"]["original"]
        row(f"upload {n} new codes, wall s (commands)", f"{up['upload']['product']:.2f} ({up['upload']['product_cmds']})",
            f"{up['upload']['original']:.2f} ({up['upload']['original_cmds']})", upload_ratio)
        row(f"re-upload the same {n} codes, wall s (commands)", f"{up['reupload']['product']:.2f} ({up['reupload']['product_cmds']})",
            f"{up['reupload']['original']:.2f} ({up['reupload']['original_cmds']})", reupload_ratio)

        st = compare.reserve_storm(server.uri, p["processes"], p["calls"], p["count"], p["fresh"], p["expired"])
        storm = f"{p['processes']} processes x {p['calls']} calls of {p['count']}, stock {st['stock']:,} ({p['expired']} expired) < demand {st['demand']:,}"
        prod, orig = st["product"], st["original"]
        storm_ratio = prod["seconds"] / orig["seconds"]
        row(f"reserve storm ({storm}): codes handed out", f"{prod['codes']:,}", f"{orig['codes']:,}", prod["codes"] / max(orig["codes"], 1))
        row("reserve storm: fulfilment % of stock (duplicates)", f"{prod['fulfilment_pct']:.1f} ({prod['duplicates']})",
            f"{orig['fulfilment_pct']:.1f} ({orig['duplicates']})")
        row("reserve storm: wall s", f"{prod['seconds']:.2f}", f"{orig['seconds']:.2f}", storm_ratio)

        cnt = compare.count(server.uri, p["count_codes"])
        row(f"count of three statuses on {p['count_codes']:,} codes: commands, ms",
            f"{cnt['product']['cmds']}, {1000 * cnt['product']['seconds']:.0f}", f"{cnt['original']['cmds']}, {1000 * cnt['original']['seconds']:.0f}",
            cnt["product"]["seconds"] / cnt["original"]["seconds"])

        lst = compare.listing(server.uri, p["listing"])
        for size_, fig in lst.items():
            row(f"listing {size_} campaigns: commands, ms",
                f"{fig['product']['cmds']}, {1000 * fig['product']['seconds']:.0f}", f"{fig['original']['cmds']}, {1000 * fig['original']['seconds']:.0f}",
                fig["product"]["seconds"] / fig["original"]["seconds"])

        calls = 100 if size == "full" else 10
        plain = reserve_bench.uncontended(server.uri, calls=calls)
        audited = reserve_bench.uncontended(server.uri, calls=calls, audit=True)
        row("reserve uncontended: commands per call, without / with the audit trail",
            f"{plain['cmds_mean']:.2f} / {audited['cmds_mean']:.2f}", "")

        shapes, scans = collscans(server.uri)
        row("full workload: query shapes explained, collection scans", f"{shapes}, {scans}", "")

    cpu = upload_bench.cpu_vs_limit(p["cpu_codes"])
    cpu_ratio = cpu["product_s"] / cpu["minimal_s"]
    row(f"upload client CPU per code, {p['cpu_codes']:,} codes (limit: csv.reader + bson.encode), us",
        f"{cpu['product_us_per_code']:.2f}", f"{cpu['minimal_us_per_code']:.2f}", cpu_ratio)

    rss = upload_bench.run(codes=p["rss_codes"])
    row(f"upload of {p['rss_codes']:,} codes into a BSON sink: peak RSS growth MB", f"{rss['rss_growth_mb']:.1f}", "")
    row(f"upload of {p['rss_codes']:,} codes into a BSON sink: codes/s (CPU)", f"{rss['codes_per_s']:,.0f}", "")

    figures = {
        "upload_vs_original": upload_ratio,
        "reupload_vs_original": reupload_ratio,
        "reserve_storm_vs_original": storm_ratio,
        "reserve_fulfilment_pct": prod["fulfilment_pct"],
        "reserve_duplicates": prod["duplicates"],
        "upload_cpu_vs_limit": cpu_ratio,
        "listing_cmds_300" if size == "full" else f"listing_cmds_{p['listing'][-1]}": lst[p["listing"][-1]]["product"]["cmds"],
        "count_cmds": cnt["product"]["cmds"],
        "upload_peak_rss_mb": rss["rss_growth_mb"],
        "collscans": scans,
        "reserve_cmds": plain["cmds_mean"],
        "reserve_cmds_audited": audited["cmds_mean"],
        "bench_minutes": (time.perf_counter() - began) / 60,
    }
    print(file=out)
    print("| figure | product | original/limit | ratio |\n|---|---|---|---|", file=out)
    for cells in rows:
        print("| " + " | ".join(cells) + " |", file=out)
    print(" ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()), file=out, flush=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full", help="smoke: tiny sizes, seconds (tests/test_bench_smoke.py)")
    args = parser.parse_args(argv)
    run(args.size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
