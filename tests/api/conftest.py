"""API fixtures: a real uvicorn server on 127.0.0.1 (in a thread), keys and token makers."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from code_console.api.server import ApiServer, build_server
from code_console.config import Settings
from code_console.core.service import CodeService

from tests.stores import embedded_store

SECRET = "test-secret-" + "s" * 40
ISSUER = "https://auth.example.test/"
AUDIENCE = "code-console"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, payload: dict, hmac_key: bytes | None = None) -> str:
    """A token built by hand: for algorithms and keys PyJWT itself refuses to sign with."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    signature = b"" if hmac_key is None else hmac.new(hmac_key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str
    private: Any


def _pair(private) -> KeyPair:
    return KeyPair(
        private_pem=private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        public_pem=private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
        private=private,
    )


@pytest.fixture(scope="session")
def rsa_keys() -> KeyPair:
    return _pair(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="session")
def ec_keys() -> KeyPair:
    return _pair(ec.generate_private_key(ec.SECP256R1()))


def claims(**overrides) -> dict:
    now = int(time.time())
    out = {"sub": "verification-service", "iat": now, "exp": now + 300, "isSupreme": True}
    for key, value in overrides.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def hs256(secret: str = SECRET, **overrides) -> str:
    return jwt.encode(claims(**overrides), secret, algorithm="HS256")


def settings_for(**overrides) -> Settings:
    """Settings for a test; the keys, issuer and audience are never taken from the environment."""
    return Settings.of(**{**_cleared(), "jwt_secret": SECRET, "api_log_level": "warning", **overrides})


def _cleared() -> dict:
    return {
        "mongo_uri": None,
        "jwt_secret": None,
        "jwt_public_key": None,
        "jwt_private_key": None,
        "jwt_issuer": None,
        "jwt_audience": None,
        "api_prefix": "",
    }


class Api:
    """A running server and an HTTP client on it."""

    def __init__(self, server: ApiServer, service: CodeService, prefix: str = "") -> None:
        self.server = server
        self.service = service
        self.base = f"http://127.0.0.1:{server.port}{prefix}"
        self.http = httpx.Client(base_url=self.base, timeout=30)

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or hs256()}"}

    def get(self, path: str, token: str | None = None, **kw) -> httpx.Response:
        headers = {**self.auth(token), **kw.pop("headers", {})}
        return self.http.get(path, headers=headers, **kw)

    def post(self, path: str, token: str | None = None, **kw) -> httpx.Response:
        headers = {**self.auth(token), **kw.pop("headers", {})}
        return self.http.post(path, headers=headers, **kw)

    @property
    def metrics(self):
        return self.server.config.app.state.metrics


@contextlib.contextmanager
def running(service: CodeService, settings: Settings, *, prefix: str | None = None) -> Iterator[Api]:
    server = build_server(service, settings, host="127.0.0.1", port=0, prefix=prefix)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    try:
        if not server.listening.wait(15):
            raise RuntimeError("the API server did not start listening within 15 s")
        api = Api(server, service, server.config.app.state.prefix)
        try:
            yield api
        finally:
            api.http.close()
    finally:
        server.should_exit = True
        thread.join(15)


@pytest.fixture
def memory_service(clock) -> CodeService:
    return CodeService(embedded_store(), clock=clock, reserve_max_count=500)


@pytest.fixture
def api(memory_service) -> Iterator[Api]:
    with running(memory_service, settings_for()) as running_api:
        yield running_api


@pytest.fixture
def campaign() -> str:
    return f"C{uuid.uuid4().hex[:10]}"


ERROR_FIELDS = {"status", "message", "payload", "name", "code"}


def data(response: httpx.Response):
    """The `data` of the original's envelope, after checking the envelope's shape."""
    body = response.json()
    assert set(body) == {"data", "meta"}, body
    assert set(body["meta"]) == {"timestamp", "correlationId"}, body
    return body["data"]


def error(response: httpx.Response) -> dict:
    """The `error` of the original's error envelope, after checking its shape."""
    body = response.json()
    assert set(body) == {"error", "meta"}, body
    assert set(body["error"]) == ERROR_FIELDS, body
    assert body["error"]["status"] == response.status_code
    assert set(body["meta"]) == {"timestamp", "correlationId"}, body
    return body["error"]


def csv_body(codes) -> bytes:
    return ("\n".join(codes) + "\n").encode()


def upload_csv(api: Api, campaign_id: str, code_type: str, codes) -> httpx.Response:
    return api.post(
        f"/{campaign_id}/codes", params={"type": code_type}, content=csv_body(codes), headers={"Content-Type": "text/csv"}
    )
