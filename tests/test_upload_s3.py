"""Upload from S3 keys: the key rules, and the S3 failures a user can meet."""

import io

import pytest
from moto import mock_aws

from code_console.core.errors import InvalidInput, NotConfigured, NotFound
from code_console.core.models import CodeType
from code_console.core.objects import AccessDenied, S3Objects, s3_client
from code_console.core.service import CodeService, parse_file_key

from tests.conftest import ME
from tests.stores import embedded_store


@pytest.mark.parametrize(
    "key, code_type",
    [("codes/C1/tm/a.csv", CodeType.TM), ("codes/C1/external/2026/batch 1.csv", CodeType.EXTERNAL)],
)
def test_good_keys(key, code_type):
    assert parse_file_key(key, "C1") is code_type


@pytest.mark.parametrize(
    "key, message",
    [
        ("codes/C2/tm/a.csv", "belongs to campaign 'C2'"),
        ("codes/C1/gold/a.csv", "invalid code type 'gold'"),
        ("codes/C1/tm/../a.csv", "'..'"),
        ("codes/C1/../C2/tm/a.csv", "'..'"),
        ("/codes/C1/tm/a.csv", "must not start with '/'"),
        ("codes/C1/tm/", "empty file name"),
        ("codes/C1/tm", "does not match"),
        ("uploads/C1/tm/a.csv", "does not match"),
        ("", "empty"),
        (5, "file key must be a string, not a number"),
        (["a"], "file key must be a string, not an array"),
        ({"a": 1}, "file key must be a string, not an object"),
        ("codes/C1/tm/x.csv\x00", "contains control characters"),
        ("codes/C1/tm/" + "x" * 1100, "is over 1024 characters"),
    ],
)
def test_bad_keys_are_refused_before_s3_is_touched(key, message):
    store = embedded_store()
    service = CodeService(store, objects=None)
    with pytest.raises(InvalidInput) as info:
        service.upload_from_key(ME, "C1", key)
    assert message in str(info.value)
    assert service.campaigns(ME) == []


@pytest.fixture
def mocked_bucket():
    with mock_aws():
        client = s3_client(endpoint_url=None, region="us-east-1", timeout_seconds=5)
        client.create_bucket(Bucket="codes")
        yield client


def test_upload_from_key_mock_aws(mocked_bucket):
    mocked_bucket.put_object(Bucket="codes", Key="codes/C1/tm/a.csv", Body=b"\xef\xbb\xbfA1\r\n A2 \r\n\r\nA3\r\n")
    service = CodeService(embedded_store(), S3Objects(mocked_bucket, "codes"))
    assert service.upload_from_key(ME, "C1", "codes/C1/tm/a.csv").to_dict() == {"in": 3, "inserted": 3, "updated": 0}
    assert service.count(ME, "C1", "tm") == {"available": 3, "reserved": 0, "assigned": 0}


def test_missing_object_and_bucket_are_clear_errors(mocked_bucket):
    service = CodeService(embedded_store(), S3Objects(mocked_bucket, "codes"))
    with pytest.raises(NotFound) as info:
        service.upload_from_key(ME, "C1", "codes/C1/tm/missing.csv")
    assert info.value.code == "object_not_found"
    assert "codes/C1/tm/missing.csv" in str(info.value)
    service = CodeService(embedded_store(), S3Objects(mocked_bucket, "no-such-bucket"))
    with pytest.raises(NotFound) as info:
        service.upload_from_key(ME, "C1", "codes/C1/tm/a.csv")
    assert info.value.code == "bucket_not_found"


def test_denied_access_is_a_clear_error():
    from botocore.exceptions import ClientError

    class DeniedClient:
        def get_object(self, **kw):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}, "ResponseMetadata": {"HTTPStatusCode": 403}}, "GetObject")

    service = CodeService(embedded_store(), S3Objects(DeniedClient(), "codes"))
    with pytest.raises(AccessDenied) as info:
        service.upload_from_key(ME, "C1", "codes/C1/tm/a.csv")
    assert info.value.code == "access_denied"


@pytest.mark.realserver
def test_missing_credentials_say_what_to_set(monkeypatch):
    # Before: "S3 is unreachable or did not answer in time: Unable to locate credentials".
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    objects = S3Objects(s3_client(endpoint_url="http://127.0.0.1:9", region="us-east-1", timeout_seconds=1), "codes")
    with pytest.raises(NotConfigured) as caught:
        objects.list("codes/X/")
    assert caught.value.code == "s3_credentials_missing"
    assert caught.value.message == (
        "no AWS credentials for S3: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (boto3's usual chain)"
    )


def test_upload_from_key_over_http_into_secantus(s3_bucket, mongo_store):
    client, bucket = s3_bucket
    body = "".join(f"CODE{i:05d}\n" for i in range(3000)).encode()
    client.put_object(Bucket=bucket, Key="codes/C1/external/launch.csv", Body=body)
    service = CodeService(mongo_store, S3Objects(client, bucket), batch_size=1000)
    seen = []
    result = service.upload_from_key(ME, "C1", "codes/C1/external/launch.csv", progress=seen.append)
    assert result.to_dict() == {"in": 3000, "inserted": 3000, "updated": 0}
    assert [p.codes for p in seen if p.phase == "writing"] == [1000, 2000, 3000]
    assert service.count(ME, "C1", "external") == {"available": 3000, "reserved": 0, "assigned": 0}
    assert [o.key for o in service.list_keys(ME, "C1", "external")] == ["codes/C1/external/launch.csv"]


@pytest.mark.parametrize("given", [None, ""])
def test_a_missing_type_is_said_to_be_missing_not_invalid(given):
    service = CodeService(embedded_store(), objects=None)
    with pytest.raises(InvalidInput) as info:
        service.upload_from_file(ME, "C1", given, io.BytesIO(b"A1\n"))
    assert (info.value.code, info.value.message) == ("invalid_type", "code type is required: one of tm, external")
