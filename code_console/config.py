"""Settings, read from the environment with the prefix CODE_CONSOLE_ (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CODE_CONSOLE_", extra="ignore")

    # No URI means the embedded store: a SQLite file (sqlite_path, by default in the user's data directory).
    mongo_uri: str | None = None
    sqlite_path: Path | None = None
    mongo_db: str = "code_console"
    # Bounds every MongoDB call: server selection, connect and each operation.
    mongo_timeout_seconds: float = Field(5.0, gt=0)
    # Uploads write large batches; a batch may take longer than a point query.
    mongo_batch_timeout_seconds: float = Field(120.0, gt=0)

    s3_bucket: str = "codes"
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_timeout_seconds: float = Field(10.0, gt=0)

    reservation_ttl_seconds: int = Field(86_400, gt=0)
    upload_batch_size: int = Field(50_000, gt=0)
    reserve_max_count: int = Field(10_000, gt=0)
    code_max_length: int = Field(128, gt=0)

    # HTTP API (JWT). A supreme principal carries the JSON value true in this claim; the original
    # service's issuer names it isSupreme.
    jwt_secret: str | None = None
    jwt_public_key: str | None = None
    jwt_private_key: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_supreme_claim: str = "isSupreme"
    # Tokens without an `exp` claim are refused unless this is false (an issuer that mints
    # tokens without expiry).
    jwt_require_exp: bool = True
    jwt_leeway_seconds: int = Field(30, ge=0, le=60)
    # Allow-list, comma-separated. Each key verifies only the listed algorithms of its own family:
    # the secret HS256, an RSA public key RS256, a P-256 public key ES256.
    jwt_algorithms: str = "HS256,RS256,ES256"
    api_prefix: str = ""
    # A streamed CSV body (spooled to a temporary file as it arrives).
    api_max_body_bytes: int = Field(64 * 1024 * 1024, gt=0)
    # A JSON body: the largest legitimate one is an assign or release of 100,000 codes of the
    # maximum length (about 13 MB); anything larger is refused before it is parsed.
    api_max_json_bytes: int = Field(16 * 1024 * 1024, gt=0)
    # JSON bodies parsed at once (each in a worker thread, never on the event loop); the others
    # wait, spooled to disk, so memory stays bounded whatever arrives.
    api_json_parse_concurrency: int = Field(2, ge=1)
    # A connection must deliver a request's line and headers within this time, and its body
    # within api_body_timeout_seconds of the headers, or it is closed (408).
    api_header_timeout_seconds: float = Field(10.0, gt=0)
    api_body_timeout_seconds: float = Field(60.0, gt=0)
    # An idle keep-alive connection is closed after this time (uvicorn's timeout_keep_alive).
    api_keep_alive_seconds: float = Field(5.0, gt=0)
    # Open connections at most: beyond it new connections are closed at once and requests get
    # 503 (uvicorn's limit_concurrency).
    api_max_connections: int = Field(1000, ge=1)
    # Request line plus headers, in bytes (uvicorn's h11_max_incomplete_event_size).
    api_max_header_bytes: int = Field(16 * 1024, ge=1024)
    # On SIGTERM: in-flight requests get this long to finish; then uploads are cancelled,
    # requests are cancelled, and the process exits.
    api_shutdown_timeout_seconds: float = Field(10.0, gt=0)
    # Sent as Retry-After with a 503 when MongoDB or S3 cannot be reached.
    api_retry_after_seconds: int = Field(5, ge=1)
    api_log_level: str = "info"
    # The original service's development endpoints (POST /dev/token, GET /dev/auth,
    # GET /dev/supremes): never in production; they mint supreme tokens for anyone.
    api_dev_endpoints: bool = False
    # /docs: a page rendered by the server from the OpenAPI document (no scripts). Off by default.
    api_docs: bool = False

    # Console
    refresh_seconds: float = Field(2.0, gt=0)
    low_stock_threshold: int = Field(1_000, ge=0)
    # Per-type overrides, e.g. CODE_CONSOLE_LOW_STOCK_THRESHOLDS='{"tm": 500, "external": 2000}'.
    low_stock_thresholds: dict[str, int] = Field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        return not self.mongo_uri

    @property
    def embedded_path(self) -> Path:
        """Where the embedded store keeps its codes (one file, shared by every process of this user)."""
        return self.sqlite_path or Path(platformdirs.user_data_dir("code-console")) / "codes.sqlite3"
