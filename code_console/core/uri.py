"""URIs as they may be shown: in headers, logs, errors and the console, never with a secret.

A MongoDB URI carries its password in the user-info part and may carry more secrets in its
query string (`tlsCertificateKeyFilePassword`, `authMechanismProperties` with an AWS session
token, ...). `redact_uri` keeps what helps an operator (scheme, hosts, database, the names of
the options) and replaces every secret with `***`. It never raises: text that is not a URI
comes back unchanged.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

MASK = "***"

# Query options whose value is a secret, matched on the lower-cased name: a name containing
# any of these words. Broad on purpose: hiding a harmless value costs nothing.
_SECRET_WORDS = ("password", "passwd", "pwd", "secret", "token", "credential", "signature", "apikey", "api_key", "authmechanismproperties")
# Names that are secrets though they contain none of the words (AWS presigned URLs, SAS).
_SECRET_NAMES = frozenset({"sig", "x-amz-security-token", "x-amz-credential", "x-amz-signature", "key"})

_URI_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>()\[\]{}]+")


def _secret_option(name: str) -> bool:
    lowered = unquote(name).strip().lower()
    return lowered in _SECRET_NAMES or any(word in lowered for word in _SECRET_WORDS)


def _redact_query(query: str) -> str:
    parts = []
    for item in query.split("&"):
        name, sep, value = item.partition("=")
        if sep and value and _secret_option(name):
            value = MASK
        parts.append(f"{name}{sep}{value}")
    return "&".join(parts)


def redact_uri(uri: str) -> str:
    """The URI with its credentials (user and password) and secret query values replaced by ***.

    `mongodb://app:pw@db1,db2/prod?tls=true&tlsCertificateKeyFilePassword=x` becomes
    `mongodb://***@db1,db2/prod?tls=true&tlsCertificateKeyFilePassword=***`.
    """
    if not isinstance(uri, str):
        return uri
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return uri
    # The authority ends at the first '/', '?' or '#'; a password may hold an unescaped '@'
    # (pymongo refuses that, but the text may come from anywhere), so the last '@' wins.
    end = len(rest)
    for mark in "/?#":
        at = rest.find(mark)
        if at != -1:
            end = min(end, at)
    authority, tail = rest[:end], rest[end:]
    if "@" in authority:
        authority = f"{MASK}@{authority.rpartition('@')[2]}"
    path, qmark, query = tail.partition("?")
    if qmark:
        query, hashmark, fragment = query.partition("#")
        tail = f"{path}?{_redact_query(query)}{hashmark}{fragment}"
    return f"{scheme}://{authority}{tail}"


def redact_uris(text: str) -> str:
    """Every URI inside a free text (an error message, a log line) redacted by redact_uri."""
    if not isinstance(text, str) or "://" not in text:
        return text
    return _URI_IN_TEXT.sub(lambda m: redact_uri(m.group(0)), text)

