"""Bad input battery through the CLI: every malformed file, key, count, code list and option a
user can type gets a clear error and a non-zero exit, and the stored data (on SecantusDB),
compared document by document before and after, is unchanged.

The console's upload wizard and the HTTP API have their own batteries, in
test_console_faults.py and test_api_faults.py.
"""

from __future__ import annotations

import io

import pytest

from code_console.cli import main
from code_console.core.service import CodeService

from tests.conftest import ME, secantus_store
from tests.faults.conftest import report, snapshot

pytestmark = pytest.mark.realserver

CAMPAIGN = "BAD"
GOOD = [f"G{i:03d}" for i in range(40)]


@pytest.fixture(scope="module")
def seeded(secantus):
    """40 codes: 10 reserved under key 'held', 3 of those assigned."""
    store = secantus_store(secantus)
    service = CodeService(store)
    service.upload_from_file(ME, CAMPAIGN, "tm", io.BytesIO("\n".join(GOOD).encode()))
    held = service.reserve(ME, CAMPAIGN, "tm", 10, key="held").codes
    service.assign(ME, CAMPAIGN, sorted(held)[:3])
    yield secantus, store, snapshot(store.collection)
    store.collection.drop()
    store.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    late = "\n".join(f"NEW{i:03d}" for i in range(50)) + "\nBAD\x00LATE\n"  # bad after several batches
    contents = {
        "invalid_utf8.csv": b"OK1\nOK2\n\xff\xfe\xfa\n",
        "nul.csv": b"OK1\nBAD\x00CODE\n",
        "too_long.csv": b"OK1\n" + b"X" * 129 + b"\n",
        "binary.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",
        "control.csv": b"OK1\nBAD\x07BELL\n",
        "bad_quote.csv": b'OK1\n"unterminated\n',
        "late_bad.csv": late.encode(),
        "codes_nul.txt": b"G001\nG\x00002\n",
        "codes_long.txt": b"G001\n" + b"Y" * 129 + b"\n",
        "empty_codes.txt": b"\n\n",
        "several.csv": b"OK1\nA1,A2,A3\n",
        "header_only.csv": b"Coupon Code\n",
        "zero_width.csv": "OK1\nZW\u200b1\n".encode(),
    }
    for name, body in contents.items():
        (d / name).write_bytes(body)
    return d


# (argv with {dir} for the files folder, exit status, text the error must contain)
CASES = [
    # upload: files
    (["upload", CAMPAIGN, "--file", "{dir}/invalid_utf8.csv", "--type", "tm"], 2, "invalid_utf8: line 3: is not valid UTF-8 text"),
    (["upload", CAMPAIGN, "--file", "{dir}/nul.csv", "--type", "tm"], 2, "not_text: line 2: contains a NUL byte"),
    (["upload", CAMPAIGN, "--file", "{dir}/too_long.csv", "--type", "tm"], 2, "code_too_long: line 2: code is 129 characters long; the maximum is 128"),
    (["upload", CAMPAIGN, "--file", "{dir}/binary.png", "--type", "tm"], 2, "invalid_utf8: line 1: is not valid UTF-8 text"),
    (["upload", CAMPAIGN, "--file", "{dir}/control.csv", "--type", "tm"], 2, "control_character: line 2: contains the control character U+0007"),
    (["upload", CAMPAIGN, "--file", "{dir}/bad_quote.csv", "--type", "tm"], 2, "line 2"),
    (["upload", CAMPAIGN, "--file", "{dir}/late_bad.csv", "--type", "tm"], 2, "not_text: line 51: contains a NUL byte"),
    (["upload", CAMPAIGN, "--file", "{dir}/several.csv", "--type", "tm"], 2, "several_fields: line 2: holds 3 values separated by commas (A1, A2, A3)"),
    (["upload", CAMPAIGN, "--file", "{dir}/header_only.csv", "--type", "tm"], 2, "no_codes: no codes to upload: the file has a header (line 1: Coupon Code)"),
    (["upload", CAMPAIGN, "--file", "{dir}/zero_width.csv", "--type", "tm"], 2, "invisible_character: line 2: contains the invisible character U+200B"),
    (["upload", CAMPAIGN, "--file", "{dir}/several.csv", "--type", "tm", "--column", "0"], 2, "invalid_column: column numbers start at 1, not 0"),
    (["upload", CAMPAIGN, "--file", "{dir}/several.csv", "--type", "tm", "--column", "sku"], 2, "no_such_column: line 1: no column is named 'sku'"),
    (["upload", CAMPAIGN, "--file", "{dir}/missing.csv", "--type", "tm"], 4, "file_not_found: no such file"),
    (["upload", CAMPAIGN, "--file", "{dir}", "--type", "tm"], 2, "not_a_file: "),
    # upload: options
    (["upload", CAMPAIGN, "--file", "{dir}/nul.csv"], 2, "invalid_type: --type (tm or external) is required with --file"),
    (["upload", CAMPAIGN, "--file", "{dir}/nul.csv", "--type", "TM"], 2, "invalid_type: invalid code type 'TM'"),
    (["upload", CAMPAIGN, "--file", "{dir}/nul.csv", "--type", ""], 2, "invalid_type"),
    (["upload", "bad campaign!", "--file", "{dir}/nul.csv", "--type", "tm"], 2, "invalid_campaign: invalid campaign id 'bad campaign!'"),
    (["upload", "-x", "--file", "{dir}/nul.csv", "--type", "tm"], 2, None),  # argparse: -x is not an option
    (["upload", "x" * 129, "--file", "{dir}/nul.csv", "--type", "tm"], 2, "invalid_campaign"),
    (["upload", CAMPAIGN, "--file-key", "codes/BAD/tm/f.csv", "--type", "tm"], 2, "invalid_key: --type is taken from the file key"),
    # upload: S3 keys (refused before S3 is asked)
    (["upload", CAMPAIGN, "--file-key", "batch1.csv"], 2, "invalid_key: file key 'batch1.csv' does not match codes/{campaignId}/{type}/{file}"),
    (["upload", CAMPAIGN, "--file-key", ""], 2, "invalid_key: file key is empty"),
    (["upload", CAMPAIGN, "--file-key", "codes/OTHER/tm/f.csv"], 2, "belongs to campaign 'OTHER', not 'BAD'"),
    (["upload", CAMPAIGN, "--file-key", "codes/BAD/gold/f.csv"], 2, "invalid_type: file key 'codes/BAD/gold/f.csv' names an invalid code type 'gold'"),
    (["upload", CAMPAIGN, "--file-key", "/codes/BAD/tm/f.csv"], 2, "must not start with '/'"),
    (["upload", CAMPAIGN, "--file-key", "codes/BAD/tm/../../x.csv"], 2, "must not contain '.' or '..' segments"),
    (["upload", CAMPAIGN, "--file-key", "codes/BAD/tm/"], 2, "has an empty file name"),
    # reserve
    (["reserve", CAMPAIGN, "--type", "tm", "--count", "0"], 2, "invalid_count: count must be from 1 to 10000, not 0"),
    (["reserve", CAMPAIGN, "--type", "tm", "--count", "-3"], 2, "invalid_count: count must be a whole number from 1 to 10000, not '-3'"),
    (["reserve", CAMPAIGN, "--type", "tm", "--count", "10001"], 2, "invalid_count: count must be from 1 to 10000, not 10001"),
    (["reserve", CAMPAIGN, "--type", "tm", "--count", "abc"], 2, "invalid_count: count must be a whole number from 1 to 10000, not 'abc'"),
    (["reserve", CAMPAIGN, "--type", "tm", "--count", "1.5"], 2, "invalid_count"),
    (["reserve", CAMPAIGN, "--type", "tm", "--count", ""], 2, "invalid_count"),
    (["reserve", CAMPAIGN, "--type", "tm", "--count", "1e3"], 2, "invalid_count"),
    (["reserve", CAMPAIGN, "--type", "both", "--count", "2"], 2, "invalid_type: invalid code type 'both'"),
    (["reserve", CAMPAIGN, "--type", "tm"], 2, None),  # argparse: --count is required
    (["reserve", CAMPAIGN, "--type", "tm", "--count", "2", "--key", "has space"], 2, "invalid_key: reservation key must be 1-128"),
    (["reserve", CAMPAIGN, "--type", "tm", "--count", "2", "--key", "k" * 129], 2, "invalid_key"),
    (["reserve", CAMPAIGN, "--type", "tm", "--count", "2", "--key", "ключ"], 2, "invalid_key"),
    (["reserve", CAMPAIGN, "--type", "tm", "--count", "2", "--key", "a/b"], 2, "invalid_key"),
    (["reserve", "bad campaign!", "--type", "tm", "--count", "2"], 2, "invalid_campaign"),
    # assign and release: code lists
    (["assign", CAMPAIGN], 2, "invalid_codes: codes must be a non-empty array of strings; got an empty one"),
    (["release", CAMPAIGN], 2, "invalid_codes: codes must be a non-empty array of strings; got an empty one"),
    (["assign", CAMPAIGN, "  "], 2, "invalid_codes: codes[0] is empty"),
    (["assign", CAMPAIGN, "G001", "Z" * 129], 2, "invalid_codes: codes[1] is not a valid code"),
    (["release", CAMPAIGN, "G001", "BAD\x07"], 2, "invalid_codes: codes[1] is not a valid code"),
    (["assign", CAMPAIGN, "--codes-file", "{dir}/missing.txt"], 4, "file_not_found"),
    (["assign", CAMPAIGN, "G001", "--codes-file", "{dir}/codes_nul.txt"], 2, "give codes as arguments or with --codes-file, not both"),
    (["assign", CAMPAIGN, "--codes-file", "{dir}/codes_nul.txt"], 2, "not_text: line 2: contains a NUL byte"),
    (["release", CAMPAIGN, "--codes-file", "{dir}/codes_long.txt"], 2, "code_too_long: line 2: code is 129 characters long; the maximum is 128"),
    (["assign", CAMPAIGN, "--codes-file", "{dir}/empty_codes.txt"], 2, "invalid_codes: codes must be a non-empty array of strings; got an empty one"),
    (["assign", "bad campaign!", "G001"], 2, "invalid_campaign"),
    (["release", CAMPAIGN, "G001", "--reserve-id", "held by me"], 2, "invalid_reserve_id: invalid reserveId 'held by me'"),
    (["assign", CAMPAIGN, "G001", "--reserve-id", "x" * 129], 2, "invalid_reserve_id"),
    (["release", CAMPAIGN, "--reserve-id", "not a key"], 2, "invalid_reserve_id: invalid reserveId 'not a key'"),
    # count and lookup
    (["count", CAMPAIGN, "--type", "gold"], 2, "invalid_type: invalid code type 'gold'"),
    (["count", CAMPAIGN, "--type", "tm", "--status", "lost"], 2, None),  # argparse choices
    (["count", CAMPAIGN], 2, None),  # argparse: --type is required
    (["count", "bad campaign!", "--type", "tm"], 2, "invalid_campaign"),
    (["lookup", "   "], 2, "invalid_codes: enter a code to look up"),
    (["lookup", "G001", "--campaign", "bad campaign!"], 2, "invalid_campaign"),
    # no such command
    (["frobnicate"], 2, None),
]


def _run(argv) -> tuple[int, str]:
    try:
        return main(argv), ""
    except SystemExit as exc:  # argparse's own usage errors
        return exc.code, "argparse"


@pytest.fixture
def cli_env(seeded, monkeypatch):
    server, store, before = seeded
    monkeypatch.setenv("CODE_CONSOLE_MONGO_URI", server.uri)
    monkeypatch.setenv("CODE_CONSOLE_MONGO_DB", store.collection.database.name)
    monkeypatch.setenv("CODE_CONSOLE_UPLOAD_BATCH_SIZE", "10")  # late_bad.csv's bad line comes after 5 batches
    return store, before


@pytest.mark.parametrize("argv,status,message", CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_cli_refuses_bad_input_and_changes_nothing(cli_env, files, capsys, argv, status, message):
    store, before = cli_env
    argv = [a.replace("{dir}", str(files)) for a in argv]
    code, how = _run(argv)
    err = capsys.readouterr().err
    if err.startswith("code-console: store: "):  # the first line names the store that answered
        err = err.split("\n", 1)[1]
    assert code == status
    if message is not None:
        assert err.startswith("code-console: ") and message in err, err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1  # one clear line
    else:
        assert how == "argparse" and "usage:" in err
    assert snapshot(store.collection) == before


def test_bad_upload_from_standard_input_changes_nothing(cli_env, monkeypatch, capsys):
    store, before = cli_env

    class Stdin:
        buffer = io.BytesIO(b"OK1\nOK2\n\xc3\x28\n")

    monkeypatch.setattr("sys.stdin", Stdin)
    assert main(["upload", CAMPAIGN, "--file", "-", "--type", "tm"]) == 2
    assert "invalid_utf8: line 3: is not valid UTF-8 text" in capsys.readouterr().err
    assert snapshot(store.collection) == before


def test_battery_figures(cli_env):
    # One line for the report: how many bad inputs the CLI battery sends.
    report("bad-input.cli", attempted=len(CASES) + 1, acknowledged=0, failed=len(CASES) + 1, duplicated=0, lost=0, changed_documents=0)
    assert len(CASES) >= 50
