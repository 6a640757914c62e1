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
import time
from typing import Sequence

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
        epilog="Configuration comes from CODE_CONSOLE_* environment variables (see the README).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("console", help="open the console on the configured MongoDB and S3 (the default)")
    sub.add_parser("demo", help="open the console on the embedded store with sample campaigns and simulated traffic")

    up = sub.add_parser("upload", help="upload codes from an S3 key or a local CSV file")
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
    res.add_argument("campaign")
    res.add_argument("--type", dest="code_type", required=True)
    res.add_argument("--count", required=True)
    res.add_argument("--key", help="reservation key: a retry with the same key returns the same codes")

    for name, text in (("assign", "assign codes permanently"), ("release", "release reserved, unassigned codes")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("campaign")
        cmd.add_argument("codes", nargs="*", metavar="CODE")
        cmd.add_argument("--codes-file", help="file with one code per line ('-' for standard input)")
        if name == "release":
            cmd.add_argument("--reserve-id", help="release every unassigned code of this reservation")

    cnt = sub.add_parser("count", help="count codes by status")
    cnt.add_argument("campaign")
    cnt.add_argument("--type", dest="code_type", required=True)
    cnt.add_argument("--status", choices=["available", "reserved", "assigned"])

    sub.add_parser("campaigns", help="list campaigns with per-type status counts")

    look = sub.add_parser("lookup", help="find a code: campaign, type, status, dates, reserveId")
    look.add_argument("code")
    look.add_argument("--campaign")

    serve = sub.add_parser("serve", help="serve the HTTP API for the verification service (needs CODE_CONSOLE_MONGO_URI)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080, help="default 8080, the original service's port; 0 picks a free one")
    serve.add_argument("--prefix", default=None, help="path prefix, for deployments behind a gateway")
    serve.add_argument(
        "--embedded", action="store_true", help="serve an in-process store (lost when the server stops) instead of MongoDB"
    )

    tok = sub.add_parser("token", help="mint a JWT for local use (needs a configured secret or private key)")
    tok.add_argument("--subject", default="local-operator")
    tok.add_argument("--not-supreme", action="store_true", help="mint a token without the supreme claim")
    tok.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "console"
    try:
        if command in ("console", "demo"):
            from code_console.ui.app import run_console

            return run_console(demo=command == "demo")
        if command == "serve":
            from code_console.api.server import serve

            return serve(host=args.host, port=args.port, prefix=args.prefix, embedded=args.embedded)
        if command == "token":
            from code_console.api.auth import mint_token_cli

            return mint_token_cli(subject=args.subject, supreme=not args.not_supreme, ttl=args.ttl)
        return _run_scripted(command, args)
    except CodeConsoleError as exc:
        print(f"code-console: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_STATUS[exc.kind]
    except KeyboardInterrupt:
        print("code-console: interrupted", file=sys.stderr)
        return 130


def _read_codes(service, args) -> list[str]:
    codes = list(args.codes)
    if args.codes_file:
        if codes:
            raise InvalidInput("invalid_codes", "give codes as arguments or with --codes-file, not both")
        codes = service.read_code_list(sys.stdin.buffer if args.codes_file == "-" else args.codes_file)
    return codes


def _run_scripted(command: str, args) -> int:
    from code_console.config import Settings
    from code_console.core.models import LOCAL_OPERATOR as me
    from code_console.runtime import open_service

    service = open_service(Settings())
    if command == "upload":
        progress = _ProgressBar() if sys.stderr.isatty() else None
        if args.file_key is not None:
            if args.code_type:
                raise InvalidInput("invalid_key", "--type is taken from the file key; do not pass it with --file-key")
            result = service.upload_from_key(me, args.campaign, args.file_key, column=args.column, progress=progress)
        else:
            if not args.code_type:
                raise InvalidInput("invalid_type", "--type (tm or external) is required with --file")
            source = sys.stdin.buffer if args.file == "-" else args.file
            result = service.upload_from_file(me, args.campaign, args.code_type, source, column=args.column, progress=progress)
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
        out = result.to_dict()
    elif command == "reserve":
        out = service.reserve(me, args.campaign, args.code_type, args.count, key=args.key).codes
    elif command == "assign":
        out = {"count": service.assign(me, args.campaign, _read_codes(service, args)).to_dict()}
    elif command == "release":
        if args.reserve_id:
            if args.codes or args.codes_file:
                raise InvalidInput("invalid_codes", "give codes or --reserve-id, not both")
            out = {"count": service.release_reservation(me, args.campaign, args.reserve_id).to_dict()}
        else:
            out = {"count": service.release(me, args.campaign, _read_codes(service, args)).to_dict()}
    elif command == "count":
        out = service.count(me, args.campaign, args.code_type, args.status)
    elif command == "campaigns":
        out = [c.to_dict() for c in service.campaigns(me)]
    elif command == "lookup":
        out = [r.to_dict() for r in service.lookup(me, args.code, args.campaign)]
    else:  # pragma: no cover - argparse rejects unknown commands
        raise InvalidInput("invalid_command", f"unknown command {command}")
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


class _ProgressBar:
    """A one-line progress bar on stderr for interactive uploads."""

    def __init__(self) -> None:
        self._started = time.monotonic()
        self._last = 0.0

    def __call__(self, p) -> None:
        now = time.monotonic()
        if now - self._last < 0.1 and p.codes != p.total_codes:
            return
        self._last = now
        rate = p.codes / max(now - self._started, 1e-6)
        if p.total_codes:
            frac = p.codes / p.total_codes
            bar = "#" * int(frac * 30)
            line = f"{p.phase:10} [{bar:<30}] {p.codes:,}/{p.total_codes:,} codes  {rate:,.0f}/s"
        else:
            line = f"{p.phase:10} {p.codes:,} codes  {p.bytes_read / 1e6:,.1f} MB"
        sys.stderr.write("\r" + line[:100].ljust(100))
        sys.stderr.flush()

    def finish(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()
