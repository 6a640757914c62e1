"""JWT authentication over HTTP: what is accepted, and the rejection matrix (each a 401)."""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import subprocess
import sys
import time

import jwt
import pydantic
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from code_console.api.auth import TokenVerifier, mint_token
from code_console.core.errors import InvalidInput, NotConfigured
from code_console.core.models import LOCAL_OPERATOR as ME

from tests.api.conftest import AUDIENCE, ISSUER, SECRET, b64url, claims, forge, hs256, running, settings_for


@pytest.fixture
def strict_api(memory_service, rsa_keys):
    """HS256 secret and an RSA public key, with issuer and audience checks and 30 s leeway."""
    settings = settings_for(jwt_public_key=rsa_keys.public_pem, jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwt_leeway_seconds=30)
    with running(memory_service, settings) as api:
        yield api


def ok_claims(**overrides) -> dict:
    return claims(**{"iss": ISSUER, "aud": AUDIENCE, **overrides})


def count_with(api, token: str):
    return api.http.get("/C1/codes/count?type=tm", headers={"Authorization": f"Bearer {token}"})


def assert_401(response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthorized"
    assert (response.json()["error"]["name"], response.json()["error"]["payload"]) == ("notLoggedIn", "Unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_hs256_and_rs256_tokens_are_accepted(strict_api, rsa_keys):
    assert count_with(strict_api, jwt.encode(ok_claims(), SECRET, algorithm="HS256")).status_code == 200
    assert count_with(strict_api, jwt.encode(ok_claims(), rsa_keys.private_pem, algorithm="RS256")).status_code == 200


def test_es256_token_is_accepted_with_an_ec_public_key(memory_service, ec_keys):
    with running(memory_service, settings_for(jwt_secret=None, jwt_public_key=ec_keys.public_pem)) as api:
        assert api.server.config.app.state.verifier.algorithms == ["ES256"]
        assert count_with(api, jwt.encode(claims(), ec_keys.private_pem, algorithm="ES256")).status_code == 200
        assert_401(count_with(api, hs256()))  # no secret configured: HS256 has no key here


def test_public_key_may_be_a_pem_file_path_or_a_pem_with_escaped_newlines(rsa_keys, tmp_path):
    path = tmp_path / "public.pem"
    path.write_text(rsa_keys.public_pem)
    token = jwt.encode(claims(), rsa_keys.private_pem, algorithm="RS256")
    for value in (str(path), rsa_keys.public_pem.replace("\n", "\\n")):
        verifier = TokenVerifier.from_settings(settings_for(jwt_secret=None, jwt_public_key=value))
        assert verifier.verify(token).subject == "verification-service"


def _rejections(rsa_keys, ec_keys) -> dict[str, str]:
    now = int(time.time())
    good = jwt.encode(ok_claims(), SECRET, algorithm="HS256")
    head, body, signature = good.split(".")
    other_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    not_json = f"{head}.{b64url(b'not json')}"
    not_json_signed = f"{not_json}.{b64url(hmac.new(SECRET.encode(), not_json.encode(), hashlib.sha256).digest())}"
    return {
        "alg none": forge({"alg": "none", "typ": "JWT"}, ok_claims()),
        "alg None, upper case": forge({"alg": "None", "typ": "JWT"}, ok_claims()),
        "HS256 signed with the RSA public key": forge({"alg": "HS256", "typ": "JWT"}, ok_claims(), rsa_keys.public_pem.encode()),
        "expired beyond the leeway": jwt.encode(ok_claims(exp=now - 90), SECRET, algorithm="HS256"),
        "nbf in the future": jwt.encode(ok_claims(nbf=now + 600), SECRET, algorithm="HS256"),
        "no exp": jwt.encode(ok_claims(exp=None), SECRET, algorithm="HS256"),
        "wrong iss": jwt.encode(ok_claims(iss="https://evil.example/"), SECRET, algorithm="HS256"),
        "no iss": jwt.encode(ok_claims(iss=None), SECRET, algorithm="HS256"),
        "wrong aud": jwt.encode(ok_claims(aud="another-service"), SECRET, algorithm="HS256"),
        "no aud": jwt.encode(ok_claims(aud=None), SECRET, algorithm="HS256"),
        "bad signature": f"{head}.{body}.{signature[:-4]}AAAA",
        "signed with another secret": jwt.encode(ok_claims(), "another-secret-" + "x" * 40, algorithm="HS256"),
        "RS256 signed with another key": jwt.encode(ok_claims(), other_rsa, algorithm="RS256"),
        "ES256 with no EC key configured": jwt.encode(ok_claims(), ec_keys.private_pem, algorithm="ES256"),
        "truncated": good[: len(good) // 2],
        "two segments": f"{head}.{body}",
        "garbage": "not-a-jwt",
        "payload not JSON, correctly signed": not_json_signed,
    }


REJECTION_CASES = [
    "alg none",
    "alg None, upper case",
    "HS256 signed with the RSA public key",
    "expired beyond the leeway",
    "nbf in the future",
    "no exp",
    "wrong iss",
    "no iss",
    "wrong aud",
    "no aud",
    "bad signature",
    "signed with another secret",
    "RS256 signed with another key",
    "ES256 with no EC key configured",
    "truncated",
    "two segments",
    "garbage",
    "payload not JSON, correctly signed",
]


@pytest.fixture(scope="module")
def rejection_tokens(rsa_keys, ec_keys):
    return _rejections(rsa_keys, ec_keys)


@pytest.mark.parametrize("case", REJECTION_CASES)
def test_rejection_matrix_is_401(strict_api, rejection_tokens, case):
    response = count_with(strict_api, rejection_tokens[case])
    assert_401(response)


def test_hs256_signed_with_the_public_key_is_refused_when_only_the_public_key_is_configured(memory_service, rsa_keys):
    with running(memory_service, settings_for(jwt_secret=None, jwt_public_key=rsa_keys.public_pem)) as api:
        token = forge({"alg": "HS256", "typ": "JWT"}, claims(), rsa_keys.public_pem.encode())
        response = count_with(api, token)
        assert_401(response)
        assert "not accepted" in response.json()["error"]["message"]
        assert count_with(api, jwt.encode(claims(), rsa_keys.private_pem, algorithm="RS256")).status_code == 200


def test_expiry_within_the_leeway_is_accepted(strict_api):
    token = jwt.encode(ok_claims(exp=int(time.time()) - 10), SECRET, algorithm="HS256")
    assert count_with(strict_api, token).status_code == 200


@pytest.mark.parametrize(
    "headers, url",
    [
        ({}, "/C1/codes/count?type=tm"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "/C1/codes/count?type=tm"),
        ({"Authorization": "Bearer"}, "/C1/codes/count?type=tm"),
        ({"Authorization": "Bearer not a token"}, "/C1/codes/count?type=tm"),
        ({"Authorization": "Token abc.def.ghi"}, "/C1/codes/count?type=tm"),
    ],
)
def test_missing_or_malformed_authorization_is_401(strict_api, headers, url):
    assert_401(strict_api.http.get(url, headers=headers))


@pytest.mark.parametrize("name", ["access_token", "token", "jwt"])
def test_a_token_in_the_query_string_is_401_even_with_a_good_header(strict_api, name):
    good = jwt.encode(ok_claims(), SECRET, algorithm="HS256")
    alone = strict_api.http.get(f"/C1/codes/count?type=tm&{name}={good}")
    assert_401(alone)
    with_header = strict_api.http.get(f"/C1/codes/count?type=tm&{name}={good}", headers={"Authorization": f"Bearer {good}"})
    assert_401(with_header)
    assert "query string" in with_header.json()["error"]["message"]


def test_every_protected_route_requires_a_token(strict_api):
    for method, path in [
        ("POST", "/C1/codes"),
        ("GET", "/C1/reserve?count=1&type=tm"),
        ("POST", "/C1/assign"),
        ("POST", "/C1/release"),
        ("GET", "/C1/codes/count?type=tm"),
    ]:
        assert_401(strict_api.http.request(method, path, json={"codes": ["A"]} if method == "POST" else None))
    assert strict_api.http.get("/heartbeat").status_code == 200
    assert strict_api.http.get("/metrics").status_code == 200


def test_supreme_claim_name_is_configurable_and_must_be_true(memory_service):
    with running(memory_service, settings_for(jwt_supreme_claim="codes_admin")) as api:
        assert count_with(api, hs256(codes_admin=True)).status_code == 200
        assert count_with(api, hs256(codes_admin="true")).status_code == 403
        assert count_with(api, hs256()).status_code == 403  # "isSupreme" is not the configured claim
        assert count_with(api, hs256(codes_admin=False)).status_code == 403
        assert count_with(api, hs256(codes_admin=[1])).status_code == 403


@pytest.mark.parametrize("value", [True])
def test_is_supreme_true_is_supreme(api, value):
    assert count_with(api, hs256(isSupreme=value)).status_code == 200


@pytest.mark.parametrize("value", ["true", "True", "yes", "1", 1, 1.0, [True], {"value": True}, False, "false", 0])
def test_only_the_json_value_true_is_supreme(api, value):
    response = count_with(api, hs256(isSupreme=value))
    assert response.status_code == 403
    assert (response.json()["error"]["name"], response.json()["error"]["payload"]) == ("supremeUserRequired", "supremeUserRequired")


def test_the_product_s_old_supreme_claim_is_not_supreme_by_default(api):
    assert count_with(api, hs256(isSupreme=None, supreme=True)).status_code == 403


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_numeric_dates_as_strings_are_refused(api, claim):
    now = int(time.time())
    value = {"exp": now + 300, "nbf": now - 10, "iat": now - 10}[claim]
    assert_401(count_with(api, hs256(**{claim: str(value)})))
    assert count_with(api, hs256(**{claim: value})).status_code == 200


@pytest.mark.parametrize("suffix", ["==", "=", "A==", "%3D%3D"])
def test_a_signature_with_padding_or_junk_appended_is_refused(api, suffix):
    token = hs256()
    assert count_with(api, token).status_code == 200
    assert_401(count_with(api, token + suffix))


def test_exp_requirement_is_a_setting(memory_service):
    no_exp = hs256(exp=None)
    with running(memory_service, settings_for()) as api:
        assert_401(count_with(api, no_exp))
    with running(memory_service, settings_for(jwt_require_exp=False)) as api:
        assert count_with(api, no_exp).status_code == 200
        assert_401(count_with(api, hs256(exp=int(time.time()) - 600)))  # a present exp is still checked


def test_algorithm_allow_list_drops_a_configured_key(memory_service, rsa_keys):
    settings = settings_for(jwt_public_key=rsa_keys.public_pem, jwt_algorithms="RS256")
    with running(memory_service, settings) as api:
        assert api.server.config.app.state.verifier.algorithms == ["RS256"]
        assert_401(count_with(api, hs256()))
        assert count_with(api, jwt.encode(claims(), rsa_keys.private_pem, algorithm="RS256")).status_code == 200


def test_configuration_errors_are_caught_at_start(rsa_keys):
    with pytest.raises(NotConfigured, match="no JWT key"):
        TokenVerifier.from_settings(settings_for(jwt_secret=None))
    with pytest.raises(NotConfigured, match="unsupported JWT algorithm"):
        TokenVerifier.from_settings(settings_for(jwt_algorithms="HS256,none"))
    with pytest.raises(NotConfigured, match="no JWT key"):
        TokenVerifier.from_settings(settings_for(jwt_algorithms="RS256"))  # only a secret is configured
    with pytest.raises(NotConfigured, match="public key"):
        TokenVerifier.from_settings(settings_for(jwt_public_key="-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----"))
    with pytest.raises(pydantic.ValidationError):
        settings_for(jwt_leeway_seconds=61)


@pytest.mark.parametrize("secret", ["short", "x" * 31, "é" * 15])
def test_a_secret_under_32_bytes_is_refused(secret):
    with pytest.raises(NotConfigured) as raised:
        TokenVerifier.from_settings(settings_for(jwt_secret=secret))
    assert raised.value.code == "jwt_secret_too_short"
    with pytest.raises(NotConfigured):
        mint_token(settings_for(jwt_secret=secret), subject="x", supreme=True, ttl=60)
    TokenVerifier.from_settings(settings_for(jwt_secret="x" * 32))


def test_a_weak_rsa_key_is_refused():
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    from cryptography.hazmat.primitives import serialization

    pem = weak.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with pytest.raises(NotConfigured, match="1024 bits"):
        TokenVerifier.from_settings(settings_for(jwt_secret=None, jwt_public_key=pem))


# -- minting -------------------------------------------------------------------------------


def test_minted_tokens_verify_with_the_matching_key(rsa_keys, ec_keys):
    for private, public, alg in ((rsa_keys.private_pem, rsa_keys.public_pem, "RS256"), (ec_keys.private_pem, ec_keys.public_pem, "ES256")):
        settings = settings_for(jwt_secret=None, jwt_private_key=private, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
        token = mint_token(settings, subject="ops", supreme=True, ttl=60)
        assert jwt.get_unverified_header(token)["alg"] == alg
        verifier = TokenVerifier.from_settings(settings_for(jwt_secret=None, jwt_public_key=public, jwt_issuer=ISSUER, jwt_audience=AUDIENCE))
        who = verifier.verify(token)
        assert (who.subject, who.supreme) == ("ops", True)
    with pytest.raises(NotConfigured, match="cannot mint"):
        mint_token(settings_for(jwt_secret=None), subject="x", supreme=True, ttl=60)
    with pytest.raises(InvalidInput, match="ttl"):
        mint_token(settings_for(), subject="x", supreme=True, ttl=0)


def _cli(*args: str, secret: str = SECRET) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODE_CONSOLE_")}
    env["CODE_CONSOLE_JWT_SECRET"] = secret
    return subprocess.run([sys.executable, "-m", "code_console", "token", *args], env=env, capture_output=True, text=True, timeout=60)


def _cli_token(*args: str) -> str:
    done = _cli(*args)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout.strip()


def test_token_command_mints_supreme_and_not_supreme_tokens(api):
    supreme = _cli_token("--subject", "alice", "--ttl", "120")
    claims_seen = jwt.decode(supreme, SECRET, algorithms=["HS256"])
    assert claims_seen["sub"] == "alice" and claims_seen["isSupreme"] is True
    assert claims_seen["exp"] - claims_seen["iat"] == 120
    assert count_with(api, supreme).status_code == 200
    plain = _cli_token("--not-supreme")
    assert "isSupreme" not in jwt.decode(plain, SECRET, algorithms=["HS256"])
    assert count_with(api, plain).status_code == 403


def test_token_command_refuses_a_short_secret_in_one_line_without_a_library_warning():
    done = _cli(secret="short")
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("code-console: jwt_secret_too_short: "), done.stderr
    assert "Warning" not in done.stderr


# -- the original's development endpoints ------------------------------------------------------


def test_development_endpoints_do_not_exist_by_default(api):
    assert api.http.post("/dev/token", json={"userId": "u", "isSupreme": True}).status_code == 404
    assert api.get("/dev/auth").status_code == 404
    assert api.get("/dev/supremes").status_code == 404
    assert not any(path.startswith("/dev") for path in api.http.get("/openapi.json").json()["paths"])


def test_development_endpoints_when_enabled(memory_service):
    with running(memory_service, settings_for(api_dev_endpoints=True)) as api:
        minted = api.http.post("/dev/token", json={"userId": "test-user-123", "isSupreme": True})
        assert minted.status_code == 200 and set(minted.json()) == {"data", "meta"}
        token = minted.json()["data"]["token"]
        assert jwt.decode(token, SECRET, algorithms=["HS256"])["isSupreme"] is True
        assert api.get("/dev/auth", token=token).json()["data"] == {"userId": "test-user-123", "isSupreme": True}
        assert api.get("/dev/supremes", token=token).json()["data"] == {"isSupreme": True}
        assert count_with(api, token).status_code == 200
        plain = api.http.post("/dev/token", json={"userId": "u2", "isSupreme": False}).json()["data"]["token"]
        refused = api.get("/dev/supremes", token=plain)
        assert refused.status_code == 403 and refused.json()["error"]["payload"] == "supremeUserRequired"
        assert api.http.get("/dev/auth").status_code == 401
        for bad in ({"userId": "u", "isSupreme": "true"}, {"isSupreme": True}, {"userId": "", "isSupreme": True}):
            assert api.http.post("/dev/token", json=bad).status_code == 400


# -- tokens as the original's issuer makes them ------------------------------------------------

EVERY_ROUTE = [
    ("GET", "/C1/codes/count?type=tm", None),
    ("GET", "/C1/reserve?count=1&type=tm", None),
    ("POST", "/C1/assign", {"codes": ["O2"]}),
    ("POST", "/C1/release", {"codes": ["O1"]}),
    ("POST", "/C1/codes", {"fileKey": "codes/C1/tm/missing.csv"}),
]


@pytest.mark.parametrize("method, path, body", EVERY_ROUTE, ids=[p for _, p, _ in EVERY_ROUTE])
def test_an_original_issuer_s_token_works_on_every_route_and_only_with_json_true(memory_service, rsa_keys, method, path, body):
    """The original's issuer signs `{userId, isSupreme}` with its RSA key (no `sub`): `isSupreme: true`
    is supreme on every route; `isSupreme: "true"` is refused on every route and changes nothing."""
    now = int(time.time())
    original = {"userId": "verification-service", "iat": now, "exp": now + 300}
    supreme = jwt.encode({**original, "isSupreme": True}, rsa_keys.private_pem, algorithm="RS256")
    stringly = jwt.encode({**original, "isSupreme": "true"}, rsa_keys.private_pem, algorithm="RS256")
    memory_service.upload_from_file(ME, "C1", "tm", io.BytesIO(b"O1\nO2\nO3\n"))
    before = memory_service.count(ME, "C1", "tm")
    with running(memory_service, settings_for(jwt_secret=None, jwt_public_key=rsa_keys.public_pem)) as api:
        refused = api.http.request(method, path, json=body, headers={"Authorization": f"Bearer {stringly}"})
        assert refused.status_code == 403, refused.text
        assert (refused.json()["error"]["name"], refused.json()["error"]["payload"]) == ("supremeUserRequired", "supremeUserRequired")
        assert memory_service.count(ME, "C1", "tm") == before
        accepted = api.http.request(method, path, json=body, headers={"Authorization": f"Bearer {supreme}"})
        # Past authorization: the route's own answer (a missing S3 object is the upload's 404 or 501).
        assert accepted.status_code not in (401, 403), accepted.text
        assert accepted.status_code == (200 if path != "/C1/codes" else 501)
