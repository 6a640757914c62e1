"""GET /{campaignId}/codes/export over a real uvicorn server: streamed, supreme only, the same rows as the CLI."""

from __future__ import annotations

import csv
import io
import json

from tests.api.conftest import error, hs256, upload_csv


def test_export_is_streamed_in_chunks(api, campaign):
    codes = [f"S{i:05d}" for i in range(20_000)]
    for start in range(0, len(codes), 5_000):
        assert upload_csv(api, campaign, "tm", codes[start : start + 5_000]).status_code == 200
    api.get(f"/{campaign}/reserve", params={"type": "tm", "count": 3})
    chunks = []
    with api.http.stream("GET", f"/{campaign}/codes/export", params={"type": "tm"}, headers=api.auth()) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["content-disposition"] == f'attachment; filename="{campaign}-tm.csv"'
        assert response.headers["export-total"] == "20000"
        assert "content-length" not in response.headers and response.headers["transfer-encoding"] == "chunked"
        for chunk in response.iter_raw():
            chunks.append(chunk)
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode(), newline="")))
    assert len(chunks) > 10  # a chunk per 1,000 rows, not one body
    assert rows[0] == ["code", "type", "status", "saved", "reserved", "assigned", "reserveId"]
    assert [r[0] for r in rows[1:]] == codes
    assert sum(1 for r in rows[1:] if r[2] == "reserved") == 3


def test_export_as_json_lines_of_one_status(api, campaign):
    upload_csv(api, campaign, "external", ["=1", "B", "C"])
    api.get(f"/{campaign}/reserve", params={"type": "external", "count": 3})
    api.post(f"/{campaign}/assign", json={"codes": ["B"]})
    response = api.get(f"/{campaign}/codes/export", params={"type": "external", "status": "assigned", "format": "jsonl"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [(line["code"], line["status"]) for line in lines] == [("B", "assigned")]
    csv_text = api.get(f"/{campaign}/codes/export", params={"type": "external"}).text
    assert csv_text.splitlines()[1].startswith("'=1,external,reserved,")


def test_export_refusals_are_json_errors(api, campaign):
    refused = api.get(f"/{campaign}/codes/export", token=hs256(isSupreme=False), params={"type": "tm"})
    assert refused.status_code == 403 and error(refused)["code"] == "forbidden"
    assert api.http.get(f"/{campaign}/codes/export", params={"type": "tm"}).status_code == 401
    missing = api.get(f"/{campaign}/codes/export")
    assert missing.status_code == 400 and error(missing)["code"] == "invalid_type"
    bad = api.get(f"/{campaign}/codes/export", params={"type": "tm", "format": "xlsx"})
    assert bad.status_code == 400 and error(bad)["code"] == "invalid_format"


def test_usage_route(api, campaign, clock):
    upload_csv(api, campaign, "tm", [f"U{i}" for i in range(10)])
    codes = api.get(f"/{campaign}/reserve", params={"type": "tm", "count": 4}).json()["data"]
    api.post(f"/{campaign}/assign", json={"codes": codes[:2]})
    answer = api.get(f"/{campaign}/usage", params={"window": "1h"})
    assert answer.status_code == 200
    tm = answer.json()["data"]["types"]["tm"]
    assert (tm["available"], tm["assigned"], tm["reserved"], tm["assignedPerHour"], tm["timeToEmpty"]) == (6, 2, 4, 2.0, "3 h")
    assert tm["hourly"] == {"assigned": [2], "reserved": [4]} and sum(tm["lastHourPerMinute"]["assigned"]) == 2
    assert answer.json()["data"]["window"] == "1h"
    bad = api.get(f"/{campaign}/usage", params={"window": "2h"})
    assert bad.status_code == 400 and error(bad)["code"] == "invalid_window"
    assert api.get(f"/{campaign}/usage", token=hs256(isSupreme=False)).status_code == 403
