"""Bearer JWT verification, and minting tokens for local use.

Each configured key verifies only the algorithms of its own family that the allow-list names:
the shared secret HS256, an RSA public key RS256, a P-256 public key ES256. The algorithm is
chosen by the key the server holds, never by the token: a token whose `alg` has no key here
(`none`, or HS256 when only a public key is configured) is refused before any verification,
and an HS256 token signed with the RSA public key as its secret fails against the real secret.

Tokens are taken as the original service's issuer makes them: the supreme flag is the claim
`isSupreme` (configurable), supreme only when it is the JSON value `true`; `exp` is required
unless configured otherwise. Stricter than the JWT library alone: the compact form must be
three unpadded base64url segments (a signature with `==` appended is refused), and `exp`,
`nbf` and `iat` must be JSON numbers (a numeric string is refused).

A configuration that cannot work (no key, a secret under 32 bytes, an unreadable or weak key)
raises NotConfigured when the server or the token command starts.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from code_console.api.errors import Unauthorized
from code_console.config import Settings
from code_console.core.errors import InvalidInput, NotConfigured
from code_console.core.models import Principal

SUPPORTED_ALGORITHMS = ("HS256", "RS256", "ES256")
# Shorter HMAC secrets are brute-forceable (RFC 7518 §3.2 asks for at least the hash size).
MIN_SECRET_BYTES = 32
MIN_RSA_BITS = 2048
# JWS compact serialization (RFC 7515 §7.1): three base64url segments, no padding, no spaces.
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
NUMERIC_DATE_CLAIMS = ("exp", "nbf", "iat")


def _pem(value: str) -> bytes:
    """PEM text, a PEM with literal "\\n" (as env files often carry it), or a path to a PEM file."""
    text = value.strip()
    if "-----BEGIN" not in text:
        path = Path(text).expanduser()
        if not path.is_file():
            raise NotConfigured("jwt_key_invalid", "the JWT key is neither PEM text nor a path to a PEM file")
        text = path.read_text().strip()
    if "\n" not in text and "\\n" in text:
        text = text.replace("\\n", "\n")
    return text.encode()


def _allowed(settings: Settings) -> set[str]:
    names = {a.strip().upper() for a in settings.jwt.algorithms.split(",") if a.strip()}
    unknown = names - set(SUPPORTED_ALGORITHMS)
    if unknown:
        raise NotConfigured(
            "jwt_algorithm_unsupported",
            f"unsupported JWT algorithm(s) {', '.join(sorted(unknown))}: choose from {', '.join(SUPPORTED_ALGORITHMS)}",
        )
    return names


def secret_bytes(settings: Settings) -> bytes | None:
    """The HS256 secret, refused if shorter than 32 bytes (CODE_CONSOLE_JWT_SECRET)."""
    if not settings.jwt.secret:
        return None
    secret = settings.jwt.secret.encode("utf-8")
    if len(secret) < MIN_SECRET_BYTES:
        raise NotConfigured(
            "jwt_secret_too_short",
            f"CODE_CONSOLE_JWT_SECRET is {len(secret)} bytes; HS256 needs at least {MIN_SECRET_BYTES} "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')",
        )
    return secret


def _check_rsa_size(key) -> None:
    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)) and key.key_size < MIN_RSA_BITS:
        raise NotConfigured("jwt_key_weak", f"the JWT RSA key has {key.key_size} bits; at least {MIN_RSA_BITS} are required")


def _public_key_algorithm(key) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return "ES256"
    raise NotConfigured("jwt_key_invalid", "the JWT public key must be RSA (RS256) or EC P-256 (ES256)")


def _private_key_algorithm(key) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return "ES256"
    raise NotConfigured("jwt_key_invalid", "the JWT private key must be RSA (RS256) or EC P-256 (ES256)")


@dataclass(frozen=True)
class TokenVerifier:
    """Turns a bearer token into a Principal, or raises Unauthorized."""

    keys: dict[str, Any]  # algorithm -> verification key
    issuer: str | None
    audience: str | None
    supreme_claim: str
    leeway_seconds: int
    require_exp: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenVerifier:
        allowed = _allowed(settings)
        keys: dict[str, Any] = {}
        secret = secret_bytes(settings)
        if secret and "HS256" in allowed:
            keys["HS256"] = secret
        if settings.jwt.public_key:
            try:
                public = serialization.load_pem_public_key(_pem(settings.jwt.public_key))
            except ValueError as exc:
                raise NotConfigured("jwt_key_invalid", f"the JWT public key cannot be read: {exc}") from None
            alg = _public_key_algorithm(public)
            _check_rsa_size(public)
            if alg in allowed:
                keys[alg] = public
        if not keys:
            raise NotConfigured(
                "jwt_not_configured",
                "no JWT key for the allowed algorithms: set CODE_CONSOLE_JWT_SECRET (HS256) or "
                "CODE_CONSOLE_JWT_PUBLIC_KEY (RS256/ES256), and CODE_CONSOLE_JWT_ALGORITHMS",
            )
        return cls(
            keys=keys,
            issuer=settings.jwt.issuer or None,
            audience=settings.jwt.audience or None,
            supreme_claim=settings.jwt.supreme_claim,
            leeway_seconds=min(settings.jwt.leeway_seconds, 60),
            require_exp=settings.jwt.require_exp,
        )

    @property
    def algorithms(self) -> list[str]:
        return sorted(self.keys)

    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of a token, or Unauthorized."""
        if not COMPACT_JWS.fullmatch(token):
            raise Unauthorized(None, "the bearer token is malformed (expected three base64url segments without padding)")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized(None, "the bearer token is malformed") from None
        alg = header.get("alg")
        key = self.keys.get(alg) if isinstance(alg, str) else None
        if key is None:
            raise Unauthorized(None, f"token algorithm {alg!r} is not accepted here (accepted: {', '.join(self.algorithms)})")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[str(alg)],
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway_seconds,
                options={
                    "require": ["exp"] if self.require_exp else [],
                    "verify_aud": self.audience is not None,
                    "verify_iss": self.issuer is not None,
                },
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized(None, "the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized(None, "the token is not valid yet (nbf or iat in the future)") from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthorized(None, f"the token has no {exc.claim!r} claim") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized(None, "the token was issued by someone else (iss)") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized(None, "the token is meant for another audience (aud)") from None
        except jwt.InvalidSignatureError:
            raise Unauthorized(None, "the token signature does not verify") from None
        except jwt.PyJWTError:
            raise Unauthorized(None, "the bearer token is invalid") from None
        for name in NUMERIC_DATE_CLAIMS:
            # The library reads "1700000000" as a date; RFC 7519 says NumericDate, a JSON number.
            value = claims.get(name)
            if name in claims and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise Unauthorized(None, f"the token's {name!r} claim must be a JSON number")
        return claims

    def verify(self, token: str) -> Principal:
        claims = self.claims(token)
        subject = claims.get("sub", claims.get("userId"))
        # Only the JSON value true is supreme: "true", 1 and "yes" are not.
        supreme = claims.get(self.supreme_claim) is True
        return Principal(subject=str(subject) if subject is not None else "", supreme=supreme)


def bearer_token(authorization: str | None) -> str:
    """The token from an `Authorization: Bearer <token>` header, or Unauthorized."""
    if not authorization:
        raise Unauthorized(None, "send a bearer token: Authorization: Bearer <JWT>")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(None, "the Authorization header must read: Bearer <JWT>")
    return token


# -- minting (code-console token, POST /dev/token) --------------------------------------------


def signing_key(settings: Settings) -> tuple[Any, str]:
    """The key and algorithm `code-console token` signs with: the private key if set, else the secret."""
    if settings.jwt.private_key:
        try:
            private = serialization.load_pem_private_key(_pem(settings.jwt.private_key), password=None)
        except (ValueError, TypeError) as exc:
            raise NotConfigured("jwt_key_invalid", f"the JWT private key cannot be read: {exc}") from None
        algorithm = _private_key_algorithm(private)
        _check_rsa_size(private)
        return private, algorithm
    secret = secret_bytes(settings)
    if secret:
        return secret, "HS256"
    raise NotConfigured("jwt_not_configured", "cannot mint a token: set CODE_CONSOLE_JWT_SECRET or CODE_CONSOLE_JWT_PRIVATE_KEY")


def mint_token(settings: Settings, *, subject: str, supreme: bool, ttl: int, now: float | None = None) -> str:
    """A signed token for local use, with the supreme claim (JSON true) when `supreme`."""
    if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
        raise InvalidInput("invalid_ttl", f"ttl must be a positive number of seconds, not {ttl}")
    key, algorithm = signing_key(settings)
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {"sub": subject, "iat": issued, "exp": issued + ttl}
    if supreme:
        claims[settings.jwt.supreme_claim] = True
    if settings.jwt.issuer:
        claims["iss"] = settings.jwt.issuer
    if settings.jwt.audience:
        claims["aud"] = settings.jwt.audience
    return jwt.encode(claims, key, algorithm=algorithm)


def mint_token_cli(*, subject: str, supreme: bool, ttl: int) -> int:
    token = mint_token(Settings(), subject=subject, supreme=supreme, ttl=ttl)
    sys.stdout.write(token + "\n")
    return 0
