"""The demo's seeding and its simulated verification service, driven tick by tick."""

from __future__ import annotations

from code_console.core.models import LOCAL_OPERATOR as ME, CodeType, StatusCounts
from code_console.core.service import CodeService
from code_console.demo import SAMPLE_FILES, VerificationTraffic, sample_codes, seed, write_bucket

from tests.stores import embedded_store
from tests.ui.conftest import SMALL_FILES


def test_the_demo_bucket_and_seed_match_the_sample_files(tmp_path):
    service = CodeService(embedded_store(), write_bucket(tmp_path, SMALL_FILES))
    seed(service, SMALL_FILES)
    summaries = {s.campaign_id: s for s in service.campaigns(ME)}
    assert sorted(summaries) == ["PARTNER-PROMO", "SPRING-TOUR", "VIP-PRESALE"]
    assert summaries["SPRING-TOUR"].for_type(CodeType.TM) == StatusCounts(2000, 0, 0)
    assert summaries["SPRING-TOUR"].for_type(CodeType.EXTERNAL) == StatusCounts(1000, 0, 0)
    # Files left for the upload wizard are in the bucket, not in the store.
    assert [k.key for k in service.list_keys(ME, "SPRING-TOUR", "external")] == [
        "codes/SPRING-TOUR/external/batch1.csv",
        "codes/SPRING-TOUR/external/batch2.csv",
    ]
    _, report = service.preview_key(ME, "SPRING-TOUR", "codes/SPRING-TOUR/tm/broken.csv")
    assert (report.codes, report.problems_total) == (298, 2)
    # Whitespace around some codes is trimmed on the way in.
    first = sample_codes("SPRING-TOUR", CodeType.TM, "batch1.csv", 1)[0]
    assert service.lookup(ME, first)[0].code == first


def test_full_demo_holds_tens_of_thousands_of_codes_of_both_types():
    uploaded = [f for f in SAMPLE_FILES if f.upload]
    assert sum(f.count for f in uploaded) == 46_200
    assert {f.code_type for f in uploaded} == {CodeType.TM, CodeType.EXTERNAL}


def test_traffic_reserves_then_settles_each_tick(tmp_path, clock):
    service = CodeService(embedded_store(), write_bucket(tmp_path, SMALL_FILES), clock=clock)
    seed(service, SMALL_FILES)
    pools = [("SPRING-TOUR", CodeType.TM)]
    traffic = VerificationTraffic(service, pools, rate=20, seed=1)

    traffic.tick()  # 10 reservations of 1-3 codes, nothing settled yet
    first = service.counts(ME, "SPRING-TOUR", "tm")
    assert first.reserved == traffic.reserved and 10 <= traffic.reserved <= 30
    assert first.assigned == 0 and first.total == 2000

    traffic.tick()  # the first tick's codes: 80% of each reservation assigned, the rest released
    second = service.counts(ME, "SPRING-TOUR", "tm")
    assert traffic.assigned > 0 and second.assigned == traffic.assigned
    assert traffic.assigned + traffic.released == first.reserved
    assert second.reserved == traffic.reserved - first.reserved
    assert second.total == 2000


def test_traffic_rate_steps_and_pause():
    traffic = VerificationTraffic(service=None, pools=[], rate=20)
    assert traffic.faster() == 50 and traffic.faster() == 100
    assert traffic.slower() == 50
    assert traffic.describe() == "traffic 50/s"
    assert traffic.toggle_pause() is True and traffic.describe() == "traffic paused"
    assert traffic.toggle_pause() is False
    traffic.rate = 0
    assert traffic.slower() == 0
