"""The API's upload answer carries the warning about codes that differ only by letter case from
codes already in the campaign (issue 10 item 5), in its `warnings` field, beside `count`."""

from __future__ import annotations

from tests.api.conftest import data, upload_csv


def test_upload_answer_warns_about_case_twins_already_in_the_campaign(api, campaign):
    assert data(upload_csv(api, campaign, "tm", ["SUMMER01", "Winter02"])) == {"count": {"in": 2, "inserted": 2, "updated": 0}}
    answer = data(upload_csv(api, campaign, "tm", ["summer01", "NEW1", "WINTER02"]))
    assert answer == {
        "count": {"in": 3, "inserted": 3, "updated": 0},
        "warnings": [
            {
                "kind": "case_twin_stored",
                "count": 2,
                "examples": [
                    {"line": 1, "code": "summer01", "other": "SUMMER01"},
                    {"line": 3, "code": "WINTER02", "other": "Winter02"},
                ],
                "message": "2 codes differ only by letter case from codes already in the campaign: "
                "line 1 summer01 (like SUMMER01), line 3 WINTER02 (like Winter02)",
            }
        ],
    }
