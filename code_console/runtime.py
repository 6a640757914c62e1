"""Builds a CodeService from Settings: the configured MongoDB and S3, or the embedded default."""

from __future__ import annotations

from datetime import timedelta

from code_console.config import Settings
from code_console.core import mongo
from code_console.core.sqlite import SqliteStore
from code_console.core.objects import S3Objects, s3_client
from code_console.core.service import CodeService


def open_service(
    settings: Settings | None = None, *, objects=None, clock=None, ensure_indexes: bool = True, store_label: str | None = None
) -> CodeService:
    settings = settings or Settings()
    if settings.embedded:
        store = SqliteStore(settings.embedded_path, label=store_label)
    else:
        store = mongo.connect(
            settings.mongo_uri,
            settings.mongo_db,
            timeout_seconds=settings.mongo_timeout_seconds,
            batch_timeout_seconds=settings.mongo_batch_timeout_seconds,
        )
    # The console passes False and creates the indexes from a worker, so that it can start
    # (and keep retrying) while MongoDB is still unreachable.
    if ensure_indexes:
        store.prepare()
    if objects is None and settings.s3_bucket:
        client = s3_client(
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            timeout_seconds=settings.s3_timeout_seconds,
        )
        objects = S3Objects(client, settings.s3_bucket)
    kwargs = {"clock": clock} if clock else {}
    return CodeService(
        store,
        objects,
        reservation_ttl=timedelta(seconds=settings.reservation_ttl_seconds),
        batch_size=settings.upload_batch_size,
        reserve_max_count=settings.reserve_max_count,
        code_max_length=settings.code_max_length,
        **kwargs,
    )
