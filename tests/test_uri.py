"""redact_uri: what an operator may see of a URI (hosts, database, option names), never a secret."""

from __future__ import annotations

import pytest

from code_console.core.uri import redact_uri, redact_uris


@pytest.mark.parametrize(
    "uri, shown",
    [
        ("mongodb://app:s3cr3t@db.internal:27017/prod", "mongodb://***@db.internal:27017/prod"),
        ("mongodb://app@db.internal/prod", "mongodb://***@db.internal/prod"),
        ("mongodb+srv://app:p%40ss@cluster0.example.net/?retryWrites=true", "mongodb+srv://***@cluster0.example.net/?retryWrites=true"),
        ("mongodb://u:p@h1:27017,h2:27017,h3/prod?replicaSet=rs0", "mongodb://***@h1:27017,h2:27017,h3/prod?replicaSet=rs0"),
        # An unescaped '@' inside the password: the last '@' of the authority ends the user info.
        ("mongodb://u:p@ss@db/prod", "mongodb://***@db/prod"),
        (
            "mongodb://db/?tls=true&tlsCertificateKeyFile=/etc/key.pem&tlsCertificateKeyFilePassword=hunter2",
            "mongodb://db/?tls=true&tlsCertificateKeyFile=/etc/key.pem&tlsCertificateKeyFilePassword=***",
        ),
        (
            "mongodb://db/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:abc",
            "mongodb://db/?authMechanism=MONGODB-AWS&authMechanismProperties=***",
        ),
        ("mongodb://db/?sslClientCertificateKeyPassword=x&authSource=admin", "mongodb://db/?sslClientCertificateKeyPassword=***&authSource=admin"),
        ("https://s3.example.com/b/k?X-Amz-Signature=abc&X-Amz-Credential=AKIA&x=1", "https://s3.example.com/b/k?X-Amz-Signature=***&X-Amz-Credential=***&x=1"),
        ("http://minio:9000", "http://minio:9000"),
        ("mongodb://127.0.0.1:27017/?directConnection=true", "mongodb://127.0.0.1:27017/?directConnection=true"),
        ("http://u:p@host/path#frag", "http://***@host/path#frag"),
        ("not a uri", "not a uri"),
        ("", ""),
    ],
)
def test_redact_uri(uri, shown):
    assert redact_uri(uri) == shown


def test_no_secret_survives_redaction():
    uri = "mongodb://admin:TopSecret1@db/prod?password=TopSecret2&token=TopSecret3&apiKey=TopSecret4"
    shown = redact_uri(uri)
    assert "TopSecret" not in shown
    assert shown == "mongodb://***@db/prod?password=***&token=***&apiKey=***"


def test_redact_uris_in_free_text():
    text = "MongoDB is unreachable (mongodb://app:pw@db:27017/?tlsCertificateKeyFilePassword=x): timed out"
    assert redact_uris(text) == "MongoDB is unreachable (mongodb://***@db:27017/?tlsCertificateKeyFilePassword=***): timed out"
    assert redact_uris("nothing to hide") == "nothing to hide"
