"""Bearer JWT verification, and minting tokens for local use.

Each configured key verifies only the algorithms of its own family that the allow-list names:
the shared secret HS256, an RSA public key RS256, a P-256 public key ES256. The algorithm is
chosen by the key the server holds, never by the token: a token whose `alg` has no key here
(`none`, or HS256 when only a public key is configured) is refused before any verification,
and an HS256 token signed with the RSA public key as its secret fails against the real secret.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from code_console.config import Settings
from code_console.core.errors import InvalidInput
from code_console.core.models import Principal
from code_console.api.errors import Unauthorized

SUPPORTED_ALGORITHMS = ("HS256", "RS256", "ES256")
# Shorter HMAC secrets are brute-forceable (RFC 7518 §3.2 asks for at least the hash size).
MIN_SECRET_BYTES = 32


def _pem(value: str) -> bytes:
    """PEM text, a PEM with literal "\\n" (as env files often carry it), or a path to a PEM file."""
    text = value.strip()
    if "-----BEGIN" not in text:
        path = Path(text).expanduser()
        if not path.is_file():
            raise InvalidInput("jwt_key_invalid", "the JWT key is neither PEM text nor a path to a PEM file")
        text = path.read_text().strip()
    if "\n" not in text and "\\n" in text:
        text = text.replace("\\n", "\n")
    return text.encode()


def _allowed(settings: Settings) -> set[str]:
    names = {a.strip().upper() for a in settings.jwt_algorithms.split(",") if a.strip()}
    unknown = names - set(SUPPORTED_ALGORITHMS)
    if unknown:
        raise InvalidInput(
            "jwt_algorithm_unsupported",
            f"unsupported JWT algorithm(s) {', '.join(sorted(unknown))}: choose from {', '.join(SUPPORTED_ALGORITHMS)}",
        )
    return names


def _public_key_algorithm(key) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return "ES256"
    raise InvalidInput("jwt_key_invalid", "the JWT public key must be RSA (RS256) or EC P-256 (ES256)")


def _private_key_algorithm(key) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return "ES256"
    raise InvalidInput("jwt_key_invalid", "the JWT private key must be RSA (RS256) or EC P-256 (ES256)")


@dataclass(frozen=True)
class TokenVerifier:
    """Turns a bearer token into a Principal, or raises Unauthorized."""

    keys: dict[str, Any]  # algorithm -> verification key
    issuer: str | None
    audience: str | None
    supreme_claim: str
    leeway_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> "TokenVerifier":
        allowed = _allowed(settings)
        keys: dict[str, Any] = {}
        if settings.jwt_secret and "HS256" in allowed:
            keys["HS256"] = settings.jwt_secret.encode()
        if settings.jwt_public_key:
            try:
                public = serialization.load_pem_public_key(_pem(settings.jwt_public_key))
            except ValueError as exc:
                raise InvalidInput("jwt_key_invalid", f"the JWT public key cannot be read: {exc}") from None
            alg = _public_key_algorithm(public)
            if alg in allowed:
                keys[alg] = public
        if not keys:
            raise InvalidInput(
                "jwt_not_configured",
                "no JWT key for the allowed algorithms: set CODE_CONSOLE_JWT_SECRET (HS256) or "
                "CODE_CONSOLE_JWT_PUBLIC_KEY (RS256/ES256), and CODE_CONSOLE_JWT_ALGORITHMS",
            )
        return cls(
            keys=keys,
            issuer=settings.jwt_issuer or None,
            audience=settings.jwt_audience or None,
            supreme_claim=settings.jwt_supreme_claim,
            leeway_seconds=min(settings.jwt_leeway_seconds, 60),
        )

    @property
    def algorithms(self) -> list[str]:
        return sorted(self.keys)

    def verify(self, token: str) -> Principal:
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
                algorithms=[alg],
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway_seconds,
                options={"require": ["exp"], "verify_aud": self.audience is not None, "verify_iss": self.issuer is not None},
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
        subject = claims.get("sub")
        return Principal(subject=str(subject) if subject is not None else "", supreme=_truthy(claims.get(self.supreme_claim)))


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value == 1
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return False


def bearer_token(authorization: str | None) -> str:
    """The token from an `Authorization: Bearer <token>` header, or Unauthorized."""
    if not authorization:
        raise Unauthorized(None, "send a bearer token: Authorization: Bearer <JWT>")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(None, "the Authorization header must read: Bearer <JWT>")
    return token


# -- minting (code-console token) ---------------------------------------------------------


def mint_token(settings: Settings, *, subject: str, supreme: bool, ttl: int, now: float | None = None) -> str:
    """A signed token for local use: with the private key if one is configured, else the secret."""
    if ttl <= 0:
        raise InvalidInput("invalid_ttl", f"ttl must be a positive number of seconds, not {ttl}")
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {"sub": subject, "iat": issued, "exp": issued + ttl}
    if supreme:
        claims[settings.jwt_supreme_claim] = True
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    if settings.jwt_private_key:
        try:
            private = serialization.load_pem_private_key(_pem(settings.jwt_private_key), password=None)
        except (ValueError, TypeError) as exc:
            raise InvalidInput("jwt_key_invalid", f"the JWT private key cannot be read: {exc}") from None
        return jwt.encode(claims, private, algorithm=_private_key_algorithm(private))
    if settings.jwt_secret:
        return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")
    raise InvalidInput(
        "jwt_not_configured",
        "cannot mint a token: set CODE_CONSOLE_JWT_SECRET or CODE_CONSOLE_JWT_PRIVATE_KEY",
    )


def mint_token_cli(*, subject: str, supreme: bool, ttl: int) -> int:
    token = mint_token(Settings(), subject=subject, supreme=supreme, ttl=ttl)
    sys.stdout.write(token + "\n")
    return 0
