"""`make bench` at tiny sizes: every part runs, on a SecantusDB of its own, in seconds (no timing asserted)."""

import io

import pytest

from tests.servers import secantus_binary

pytestmark = pytest.mark.realserver


def test_the_bench_runs_at_tiny_sizes_and_prints_its_table_and_figures():
    if secantus_binary() is None:
        pytest.skip("secantusd-py is not installed (pip install secantusdb)")
    from bench.__main__ import run

    out, log = io.StringIO(), io.StringIO()
    figures = run("smoke", out=out, log=log)
    lines = out.getvalue().strip().splitlines()
    assert lines[0] == "| figure | product | original/limit | ratio |"
    keys = [pair.split("=")[0] for pair in lines[-1].split()]
    assert keys[:6] == [
        "upload_vs_original", "reupload_vs_original", "reserve_storm_vs_original",
        "reserve_fulfilment_pct", "reserve_duplicates", "upload_cpu_vs_limit",
    ]
    assert keys[6:] == [
        "listing_cmds_9", "count_cmds", "upload_peak_rss_mb", "collscans", "reserve_cmds", "reserve_cmds_audited", "bench_minutes",
    ]
    # What does not depend on the machine: codes, commands, plans.
    assert figures["reserve_fulfilment_pct"] == 100.0  # 2 x 4 calls of 5 against a stock of 30
    assert figures["reserve_duplicates"] == 0
    assert figures["listing_cmds_9"] == 1
    assert figures["count_cmds"] == 1
    assert figures["collscans"] == 0
    assert figures["reserve_cmds_audited"] - figures["reserve_cmds"] == pytest.approx(1, abs=0.2)  # one insert per call
