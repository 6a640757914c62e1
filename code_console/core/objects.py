"""Object sources: S3 (boto3), the only module that speaks S3, and a local folder for the embedded demo."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, cast

from code_console.core.errors import AccessDenied, CodeConsoleError, NotConfigured, NotFound, ObjectStoreUnavailable


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int


class ObjectSource(Protocol):
    label: str

    def open(self, key: str) -> tuple[BinaryIO, int | None]:
        """A readable stream of the object and its size in bytes, if known."""

    def list(self, prefix: str, limit: int = 1000) -> list[ObjectInfo]: ...


class S3Objects:
    def __init__(self, client, bucket: str, label: str | None = None) -> None:
        self._client = client
        self.bucket = bucket
        self.label = label or f"s3://{bucket}"

    def _translate(self, exc: Exception, key: str | None) -> CodeConsoleError:
        from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

        if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
            # Nothing was sent: S3 is not unreachable, this installation has no credentials.
            return NotConfigured(
                "s3_credentials_missing",
                "no AWS credentials for S3: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "or AWS_PROFILE (boto3's usual chain)",
            )
        if isinstance(exc, ClientError):
            err = exc.response.get("Error", {})
            code = str(err.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in ("NoSuchBucket",):
                return NotFound("bucket_not_found", f"S3 bucket {self.bucket!r} does not exist")
            if code in ("NoSuchKey", "404", "NotFound") or status == 404:
                return NotFound("object_not_found", f"no S3 object {key!r} in bucket {self.bucket!r}")
            if code in ("AccessDenied", "403", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch") or status == 403:
                return AccessDenied(None, f"access denied to s3://{self.bucket}/{key or ''} ({code})")
            return ObjectStoreUnavailable(None, f"S3 error {code or status}: {err.get('Message', '')}".strip())
        return ObjectStoreUnavailable(None, f"S3 is unreachable or did not answer in time: {exc}")

    def open(self, key: str) -> tuple[BinaryIO, int | None]:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
        except Exception as exc:  # botocore raises many families; all are translated
            raise self._translate(exc, key) from exc
        return cast(BinaryIO, _GuardedBody(response["Body"], self, key)), response.get("ContentLength")

    def list(self, prefix: str, limit: int = 1000) -> list[ObjectInfo]:
        out: list[ObjectInfo] = []
        try:
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    out.append(ObjectInfo(item["Key"], item["Size"]))
                    if len(out) >= limit:
                        return out
        except Exception as exc:
            raise self._translate(exc, prefix) from exc
        return out


class _GuardedBody:
    """A streaming body whose read errors (a cut connection, a stall) become domain errors."""

    def __init__(self, body, owner: S3Objects, key: str) -> None:
        self._body = body
        self._owner = owner
        self._key = key
        self._read = 0

    def read(self, n: int = -1) -> bytes:
        try:
            chunk = self._body.read(n)
        except Exception as exc:
            raise ObjectStoreUnavailable(
                None, f"reading s3://{self._owner.bucket}/{self._key} failed after {self._read:,} bytes: {_stream_failure(exc)}"
            ) from exc
        self._read += len(chunk)
        return chunk

    def close(self) -> None:
        self._body.close()


def _stream_failure(exc: Exception) -> str:
    # botocore's own text for a stalled stream names no endpoint ('endpoint URL: "None"').
    from botocore.exceptions import IncompleteReadError, ReadTimeoutError, ResponseStreamingError

    if isinstance(exc, (ReadTimeoutError, TimeoutError)):
        return "the stream stalled (no data within the read timeout)"
    if isinstance(exc, (IncompleteReadError, ResponseStreamingError)):
        return f"the connection ended before the whole object arrived ({exc})"
    return str(exc)


class DirectoryObjects:
    """A local folder laid out like the bucket: the embedded demo's stand-in for S3."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.label = f"local folder {self.root}"

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise NotFound("object_not_found", f"no object {key!r}")
        return path

    def open(self, key: str) -> tuple[BinaryIO, int | None]:
        path = self._path(key)
        if not path.is_file():
            raise NotFound("object_not_found", f"no object {key!r} in {self.label}")
        return open(path, "rb"), path.stat().st_size

    def list(self, prefix: str, limit: int = 1000) -> list[ObjectInfo]:
        out = []
        for path in sorted(self.root.rglob("*")):
            key = path.relative_to(self.root).as_posix()
            if path.is_file() and key.startswith(prefix):
                out.append(ObjectInfo(key, path.stat().st_size))
                if len(out) >= limit:
                    break
        return out

    def put(self, key: str, body: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


def s3_client(*, endpoint_url: str | None, region: str, timeout_seconds: float):
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=timeout_seconds,
        read_timeout=timeout_seconds,
        retries={"max_attempts": 3, "mode": "standard"},
        s3={"addressing_style": "path"},
    )
    # A session of its own: credentials are looked up now, not cached from an earlier client.
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url, region_name=region, config=config)
