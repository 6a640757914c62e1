"""Entry point `code-console`: the console by default, subcommands for scripting.

Results go to stdout as JSON in the spec's shapes; errors go to stderr as one line with a
non-zero exit status chosen by the error's kind (EXIT_STATUS): 2 bad input, a conflict or a
configuration fault, 3 forbidden or refused credentials, 4 not found, 5 server unreachable,
130 cancelled.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from pydantic import ValidationError

from code_console.core.errors import CodeConsoleError, ErrorKind, InvalidInput

# Every kind has a status: tests/test_error_policy.py checks that none is missing.
EXIT_STATUS: dict[ErrorKind, int] = {
    ErrorKind.INVALID_INPUT: 2,
    ErrorKind.CONFLICT: 2,
    ErrorKind.TOO_LARGE: 2,
    ErrorKind.NOT_CONFIGURED: 2,
    ErrorKind.UNAUTHENTICATED: 3,
    ErrorKind.FORBIDDEN: 3,
    ErrorKind.UPSTREAM_REFUSED: 3,
    ErrorKind.NOT_FOUND: 4,
    ErrorKind.UNAVAILABLE: 5,
    ErrorKind.CANCELLED: 130,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="code-console",
        description="Promotional code inventory on MongoDB and S3. With no command, opens the console.",
        epilog=(
            "Configuration comes from CODE_CONSOLE_* environment variables (see the README). With no "
            "CODE_CONSOLE_MONGO_URI the codes live in the embedded store, a SQLite file: "
            f"{_embedded_path()} (CODE_CONSOLE_SQLITE_PATH to change it)."
        ),
    )
    parser.set_defaults(handler=_console)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("console", help="open the console on the configured store and S3 (the default)").set_defaults(handler=_console)
    sub.add_parser(
        "demo", help="open the console on a throwaway store with sample campaigns and simulated traffic"
    ).set_defaults(handler=_console)

    up = sub.add_parser("upload", help="upload codes from an S3 key or a local CSV file")
    up.set_defaults(handler=_upload, service=True)
    up.add_argument("campaign")
    src = up.add_mutually_exclusive_group(required=True)
    src.add_argument("--file-key", help="S3 key codes/{campaign}/{type}/{file}")
    src.add_argument("--file", help="local CSV file ('-' for standard input); needs --type")
    up.add_argument("--type", dest="code_type", help="tm or external (with --file)")
    up.add_argument(
        "--column",
        metavar="NAME|N",
        help="the column that holds the codes: a header name or a number from 1 "
        "(default: the column a header names code, coupon, voucher or promo; else one code per row)",
    )

    res = sub.add_parser("reserve", help="reserve codes; prints a JSON array of codes")
    res.set_defaults(handler=_reserve, service=True)
    res.add_argument("campaign")
    res.add_argument("--type", dest="code_type", required=True)
    res.add_argument("--count", required=True)
    res.add_argument("--key", help="reservation key: every call with it gets the same codes; it belongs to this campaign, type and count")
    res.add_argument(
        "--with-reserve-id",
        action="store_true",
        help='print {"reserveId": ..., "codes": [...]} instead of the array, to name the reservation in assign and release',
    )

    for name, text, whole in (
        ("assign", "assign codes permanently", "assign only codes this reservation holds (expired ones too, while nobody took them)"),
        ("release", "release reserved, unassigned codes", "release only codes this reservation still holds; with no codes, all of them"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.set_defaults(handler=_assign if name == "assign" else _release, service=True)
        cmd.add_argument("campaign")
        cmd.add_argument("codes", nargs="*", metavar="CODE")
        cmd.add_argument("--codes-file", help="file with one code per line ('-' for standard input)")
        cmd.add_argument("--reserve-id", help=whole)

    cnt = sub.add_parser("count", help="count codes by status")
    cnt.set_defaults(handler=_count, service=True)
    cnt.add_argument("campaign")
    cnt.add_argument("--type", dest="code_type", required=True)
    cnt.add_argument("--status", choices=["available", "reserved", "assigned"])

    sub.add_parser("campaigns", help="list campaigns with per-type status counts").set_defaults(handler=_campaigns, service=True)

    look = sub.add_parser("lookup", help="find a code (or, with --campaign, a reservation by its reserveId)")
    look.set_defaults(handler=_lookup, service=True)
    look.add_argument("code")
    look.add_argument("--campaign")

    chk = sub.add_parser("check", help="report the documents of a campaign that do not fit the schema (changes nothing)")
    chk.set_defaults(handler=_check, service=True)
    chk.add_argument("campaign")

    hist = sub.add_parser(
        "history",
        help="a campaign's recorded changes, newest first: one JSON object per line (who, when, through what, which codes)",
    )
    hist.set_defaults(handler=_history, service=True, lines=True)
    hist.add_argument("campaign")
    hist.add_argument("--code", help="only the changes naming this code (and the upload that last saved it)")
    hist.add_argument("--reserve-id", help="only the changes of this reservation")
    hist.add_argument("--since", metavar="WHEN", help="an ISO 8601 time (UTC unless it says), a date, or a span back from now: 30m, 2h, 7d")
    hist.add_argument("--limit", default="100", metavar="N", help="at most N events (default 100, at most 1000)")
    hist.add_argument("--before", metavar="CURSOR", help="the next page: the cursor the previous page printed on stderr")

    exp = sub.add_parser("export", help="write a campaign's codes of one type as CSV or JSON lines (to stdout or --output)")
    exp.set_defaults(handler=_export)
    exp.add_argument("campaign")
    exp.add_argument("--type", dest="code_type", required=True)
    exp.add_argument("--status", choices=["available", "reserved", "assigned"])
    exp.add_argument("--format", dest="export_format", choices=["csv", "jsonl"], default="csv", help="default csv (UTF-8, a header row)")
    exp.add_argument("--output", metavar="FILE", help="write here (replaced only once the export is complete); default stdout")

    use = sub.add_parser("usage", help="reservations and assignments per hour and time to empty per type, from the stored dates")
    use.set_defaults(handler=_usage, service=True)
    use.add_argument("campaign")
    use.add_argument("--window", choices=["1h", "24h", "7d"], default="24h", help="how far back the rates look (default 24h)")

    wat = sub.add_parser("watch", help="check for low stock on a schedule; alerts are logged and sent to the configured webhook")
    wat.set_defaults(handler=_watch)
    wat.add_argument("--once", action="store_true", help="check once, print what fired as JSON, and exit")
    wat.add_argument("--interval", type=float, metavar="SECONDS", help="between checks (default CODE_CONSOLE_ALERT_CHECK_SECONDS, 60)")

    serve = sub.add_parser("serve", help="serve the HTTP API for the verification service (on CODE_CONSOLE_MONGO_URI, or --embedded)")
    serve.set_defaults(handler=_serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080, help="default 8080, the original service's port; 0 picks a free one")
    serve.add_argument("--prefix", default=None, help="path prefix, for deployments behind a gateway")
    serve.add_argument("--embedded", action="store_true", help="serve the embedded store (the SQLite file) instead of MongoDB")

    tok = sub.add_parser("token", help="mint a JWT for local use (needs a configured secret or private key)")
    tok.set_defaults(handler=_token)
    tok.add_argument("--subject", type=_subject, default="local-operator")
    tok.add_argument("--not-supreme", action="store_true", help="mint a token without the supreme claim")
    tok.add_argument("--ttl", type=_token_ttl, default=3600, help=f"lifetime in seconds, 1 to {MAX_TOKEN_TTL:,} (30 days)")
    return parser


MAX_TOKEN_TTL = 30 * 24 * 3600  # a local token is for trying things, not a standing credential


def _token_ttl(text: str) -> int:
    if not text.strip().isdigit() or not text.strip().isascii() or len(text.strip()) > 9 or not 1 <= int(text) <= MAX_TOKEN_TTL:
        raise argparse.ArgumentTypeError(f"must be a number of seconds from 1 to {MAX_TOKEN_TTL:,}")
    return int(text)


def _subject(text: str) -> str:
    if not text.strip() or len(text) > 256 or not text.isprintable():
        raise argparse.ArgumentTypeError("must be 1-256 printable characters")
    return text


def _embedded_path() -> str:
    from code_console.config import Settings

    try:
        return str(Settings().embedded_path)
    except Exception:  # a malformed variable is reported when a command runs, not in --help
        return "the user's data directory"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if getattr(args, "service", False):
            return _scripted(args)
        return args.handler(args)
    except CodeConsoleError as exc:
        print(f"code-console: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_STATUS[exc.kind]
    except ValidationError as exc:
        print(f"code-console: invalid_setting: {_setting_problem(exc)}", file=sys.stderr)
        return EXIT_STATUS[ErrorKind.NOT_CONFIGURED]
    except KeyboardInterrupt:
        print("code-console: interrupted", file=sys.stderr)
        return 130


def _setting_problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    name = "_".join(str(part) for part in first.get("loc", ())).upper()
    return f"{name}: {first.get('msg', 'invalid value')}"


# -- commands without a store ------------------------------------------------------------------


def _console(args) -> int:
    from code_console.ui.app import run_console

    return run_console(demo=args.command == "demo")


def _serve(args) -> int:
    from code_console.api.server import serve

    return serve(host=args.host, port=args.port, prefix=args.prefix, embedded=args.embedded)


def _token(args) -> int:
    from code_console.api.auth import mint_token_cli

    return mint_token_cli(subject=args.subject, supreme=not args.not_supreme, ttl=args.ttl)


# -- commands on the store: each prints one JSON value on stdout ----------------------------------


def _scripted(args) -> int:
    from code_console import runtime
    from code_console.core.models import Channel

    wired = runtime.configured(prepare=False)  # the store prepares on first use, after the line below
    me = runtime.operator(wired.settings, Channel.CLI)
    # The first line of output says which store answered (stderr: stdout stays the JSON result).
    print(f"code-console: store: {wired.service.describe().store}", file=sys.stderr)
    try:
        out = args.handler(wired.service, me, args)
    finally:
        wired.service.close()
    if getattr(args, "lines", False):
        # JSON lines: one value per line, so that a long history can be read with grep and jq.
        for value in out:
            json.dump(value, sys.stdout)
            sys.stdout.write("\n")
        return 0
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


def _upload(service, me, args):
    progress = _ProgressBar() if sys.stderr.isatty() else None
    try:
        if args.file_key is not None:
            if args.code_type:
                raise InvalidInput("invalid_key", "--type is taken from the file key; do not pass it with --file-key")
            result = service.upload_from_key(me, args.campaign, args.file_key, column=args.column, progress=progress)
        else:
            if not args.code_type:
                raise InvalidInput("invalid_type", "--type (tm or external) is required with --file")
            source = sys.stdin.buffer if args.file == "-" else args.file
            result = service.upload_from_file(me, args.campaign, args.code_type, source, column=args.column, progress=progress)
    finally:
        if progress:
            progress.finish()
    # stdout stays the JSON result; how the file was read and what looks wrong go to stderr, a line each.
    if result.layout is not None and not result.layout.plain:
        print(f"code-console: read: {result.layout.describe()}", file=sys.stderr)
    for warning in result.warnings:
        print(f"code-console: warning: {warning.message}", file=sys.stderr)
    if result.duplicates:
        which = "code repeats" if result.duplicates == 1 else "codes repeat"
        print(f"code-console: warning: {result.duplicates:,} {which} a code earlier in the file: stored once, counted under duplicates", file=sys.stderr)
    return result.to_dict()


def _reserve(service, me, args):
    reservation = service.reserve(me, args.campaign, args.code_type, args.count, key=args.key)
    if args.with_reserve_id:
        return {"reserveId": reservation.reserve_id, "codes": reservation.codes}
    print(f"code-console: reserveId: {reservation.reserve_id}", file=sys.stderr)
    return reservation.codes


def _assign(service, me, args):
    return _outcome(service.assign(me, args.campaign, _read_codes(service, args), reserve_id=args.reserve_id))


def _release(service, me, args):
    if args.reserve_id and not (args.codes or args.codes_file):
        return _outcome(service.release_reservation(me, args.campaign, args.reserve_id))
    return _outcome(service.release(me, args.campaign, _read_codes(service, args), reserve_id=args.reserve_id))


def _outcome(result) -> dict:
    """The spec's {"count": {"in", "updated"}}, and the codes left as they were, by reason."""
    out: dict = {"count": result.to_dict()}
    unchanged = result.unchanged_dict()
    if unchanged:
        out["unchanged"] = unchanged
        for reason, codes in unchanged.items():
            print(f"code-console: {len(codes):,} not changed ({reason.replace('_', ' ')}): {', '.join(codes[:5])}"
                  + (" …" if len(codes) > 5 else ""), file=sys.stderr)
    return out


def _count(service, me, args):
    return service.count(me, args.campaign, args.code_type, args.status)


def _campaigns(service, me, args):
    return [c.to_dict() for c in service.campaigns(me)]


def _lookup(service, me, args):
    records = service.lookup(me, args.code, args.campaign)
    if not records and args.campaign:
        # Not a code of this campaign: perhaps a reserveId, as the console's lookup reads it.
        records = service.reservation(me, args.campaign, args.code)
        if records:
            print(f"code-console: reservation {args.code}: {len(records):,} codes", file=sys.stderr)
    elif not records:
        print("code-console: no such code (to find a reservation by its reserveId, give --campaign)", file=sys.stderr)
    return [r.to_dict() for r in records]


def _check(service, me, args):
    report = service.check(me, args.campaign)
    for entry in report.to_dict()["misfits"].values():
        print(f"code-console: {entry['count']:,} documents: {entry['meaning']}", file=sys.stderr)
    return report.to_dict()


def _history(service, me, args):
    page = service.history(
        me, args.campaign, code=args.code, reserve_id=args.reserve_id, since=args.since, before=args.before, limit=args.limit
    )
    if page.next is not None:
        print(f"code-console: more events before these: add --before {page.next} for the next page", file=sys.stderr)
    return [e.to_dict() for e in page.events]


def _usage(service, me, args):
    usage = service.usage(me, args.campaign, args.window)
    for code_type, pool in usage.types.items():
        print(f"code-console: {code_type.value}: {pool.to_dict()['timeToEmpty']} at {pool.assign_rate:.3g} assigned/h over {args.window}",
              file=sys.stderr)
    return usage.to_dict()


def _export(args) -> int:
    """Streams the rows to stdout or to a file written beside FILE and renamed over it when
    complete, so an interrupted export never leaves a truncated FILE; the count goes to stderr."""
    import os
    import tempfile

    from code_console import runtime
    from code_console.core.export import render
    from code_console.core.models import Channel

    wired = runtime.configured(prepare=False)
    me = runtime.operator(wired.settings, Channel.CLI)
    print(f"code-console: store: {wired.service.describe().store}", file=sys.stderr)
    temp = None
    try:
        export = wired.service.export(me, args.campaign, args.code_type, args.status)
        bar = _CountBar("exporting", export.total) if sys.stderr.isatty() else None
        written = [0]

        def progress(rows: int) -> None:
            written[0] = rows
            if bar:
                bar(rows)

        try:
            if args.output:
                folder = os.path.dirname(os.path.abspath(args.output))
                handle, temp = tempfile.mkstemp(prefix=".export-", dir=folder)
                with os.fdopen(handle, "wb") as out:
                    for chunk in render(export.records, args.export_format, progress=progress):
                        out.write(chunk)
                os.replace(temp, args.output)
                temp = None
            else:
                stdout = sys.stdout.buffer
                for chunk in render(export.records, args.export_format, progress=progress):
                    stdout.write(chunk)
                stdout.flush()
        finally:
            if bar:
                bar.finish()
    finally:
        if temp is not None:
            os.unlink(temp)
        wired.service.close()
    where = args.output or "standard output"
    print(f"code-console: exported {written[0]:,} codes to {where}", file=sys.stderr)
    return 0


def _watch(args) -> int:
    """Alert checks alone, for deployments without the API: one line per event on stderr."""
    import logging
    import time

    from code_console import runtime
    from code_console.core.models import Channel

    wired = runtime.configured(prepare=False)
    me = runtime.operator(wired.settings, Channel.CLI)
    print(f"code-console: store: {wired.service.describe().store}", file=sys.stderr)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("code-console: %(message)s"))
    alerts_log = logging.getLogger("code_console.alerts")
    alerts_log.addHandler(handler)
    alerts_log.setLevel(logging.INFO)
    try:
        checker = runtime.alert_checker(wired.settings, wired.service, me)
        if args.once:
            result = checker.check()
            json.dump(
                {
                    "fired": [a.to_dict() for a in result.fired],
                    "delivered": [a.delivery_id for a in result.delivered],
                    "failed": [{"delivery": a.delivery_id, "problem": why} for a, why in result.failed],
                    "recovered": result.recovered,
                },
                sys.stdout,
            )
            sys.stdout.write("\n")
            return 1 if result.failed else 0
        interval = args.interval or wired.settings.alert.check_seconds
        where = wired.settings.alert.webhook_url or "no webhook (CODE_CONSOLE_ALERT_WEBHOOK_URL): logged only"
        print(f"code-console: checking every {interval:g} s; alerts to {where}", file=sys.stderr)
        while True:
            try:
                checker.check()
            except CodeConsoleError as exc:  # the store down: say so, try again next time
                print(f"code-console: check failed: {exc.code}: {exc.message}", file=sys.stderr)
            time.sleep(interval)
    finally:
        alerts_log.removeHandler(handler)
        wired.service.close()


def _read_codes(service, args) -> list[str]:
    codes = list(args.codes)
    if args.codes_file:
        if codes:
            raise InvalidInput("invalid_codes", "give codes as arguments or with --codes-file, not both")
        codes = service.read_code_list(sys.stdin.buffer if args.codes_file == "-" else args.codes_file)
    return codes


class _ProgressBar:
    """Upload progress on stderr, drawn by Rich: the phase, a bar, codes, rate and time left."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("codes"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task = self._progress.add_task("checking", total=None)
        self._progress.start()

    def __call__(self, p) -> None:
        if p.phase == "writing":
            what = f"writing batch {p.batch} of {p.batches}" if p.batch else "writing"
        else:
            what = "checking the file"
        self._progress.update(self._task, description=what, completed=p.codes, total=p.total_codes)

    def finish(self) -> None:
        self._progress.stop()


class _CountBar:
    """A count against a known total on stderr, drawn by Rich (exports)."""

    def __init__(self, what: str, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn(what), BarColumn(), MofNCompleteColumn(), TextColumn("codes"), TimeRemainingColumn(), console=Console(stderr=True)
        )
        self._task = self._progress.add_task(what, total=total or None)
        self._progress.start()

    def __call__(self, done: int) -> None:
        self._progress.update(self._task, completed=done)

    def finish(self) -> None:
        self._progress.stop()
