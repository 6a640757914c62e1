"""Settings, read from the environment (pydantic-settings), in groups.

Every variable is named CODE_CONSOLE_<GROUP PREFIX><FIELD> as before the grouping: the Mongo
group reads CODE_CONSOLE_MONGO_URI into `settings.mongo.uri`, the inventory group reads
CODE_CONSOLE_RESERVATION_TTL_SECONDS into `settings.inventory.reservation_ttl_seconds`.
`Settings.of(mongo_uri=..., jwt_secret=...)` builds settings from those flat names (without
the CODE_CONSOLE_ prefix), the environment filling the rest; `settings.but(...)` copies with
some of them replaced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "CODE_CONSOLE_"


class MongoSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX + "MONGO_", extra="ignore")

    # No URI means the embedded store: a SQLite file (inventory.sqlite_path).
    uri: str | None = None
    # The original service's deployments use `prod` and `dev`.
    db: str = "code_console"
    # Bounds every MongoDB call: server selection, connect and each operation.
    timeout_seconds: float = Field(5.0, gt=0)
    # Uploads write large batches; a batch may take longer than a point query.
    batch_timeout_seconds: float = Field(120.0, gt=0)


class S3Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX + "S3_", extra="ignore")

    bucket: str = "codes"
    endpoint_url: str | None = None
    region: str = "us-east-1"
    timeout_seconds: float = Field(10.0, gt=0)


class InventorySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    # The embedded store's file; by default in the user's data directory (embedded_path).
    sqlite_path: Path | None = None
    reservation_ttl_seconds: int = Field(86_400, gt=0)
    upload_batch_size: int = Field(50_000, gt=0)
    reserve_max_count: int = Field(10_000, gt=0)
    code_max_length: int = Field(128, gt=0)
    # Who acts on the command line and in the console (recorded with every change); the login
    # user when unset.
    operator: str | None = None


class JwtSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX + "JWT_", extra="ignore")

    # A supreme principal carries the JSON value true in `supreme_claim`; the original
    # service's issuer names it isSupreme.
    secret: str | None = None
    public_key: str | None = None
    private_key: str | None = None
    issuer: str | None = None
    audience: str | None = None
    supreme_claim: str = "isSupreme"
    # Tokens without an `exp` claim are refused unless this is false (an issuer that mints
    # tokens without expiry).
    require_exp: bool = True
    leeway_seconds: int = Field(30, ge=0, le=60)
    # Allow-list, comma-separated. Each key verifies only the listed algorithms of its own family:
    # the secret HS256, an RSA public key RS256, a P-256 public key ES256.
    algorithms: str = "HS256,RS256,ES256"


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX + "API_", extra="ignore")

    prefix: str = ""
    # A streamed CSV body (spooled to a temporary file as it arrives).
    max_body_bytes: int = Field(64 * 1024 * 1024, gt=0)
    # A JSON body: the largest legitimate one is an assign or release of 100,000 codes of the
    # maximum length (about 13 MB); anything larger is refused before it is parsed.
    max_json_bytes: int = Field(16 * 1024 * 1024, gt=0)
    # JSON bodies parsed at once (each in a worker thread, never on the event loop); the others
    # wait, spooled to disk, so memory stays bounded whatever arrives.
    json_parse_concurrency: int = Field(2, ge=1)
    # A connection must deliver a request's line and headers within this time, and its body
    # within body_timeout_seconds of the headers, or it is closed (408).
    header_timeout_seconds: float = Field(10.0, gt=0)
    body_timeout_seconds: float = Field(60.0, gt=0)
    # An idle keep-alive connection is closed after this time (uvicorn's timeout_keep_alive).
    keep_alive_seconds: float = Field(5.0, gt=0)
    # Open connections at most: beyond it new connections are closed at once and requests get
    # 503 (uvicorn's limit_concurrency).
    max_connections: int = Field(1000, ge=1)
    # Request line plus headers, in bytes (uvicorn's h11_max_incomplete_event_size).
    max_header_bytes: int = Field(16 * 1024, ge=1024)
    # On SIGTERM: in-flight requests get this long to finish; then uploads are cancelled,
    # requests are cancelled, and the process exits.
    shutdown_timeout_seconds: float = Field(10.0, gt=0)
    # Sent as Retry-After with a 503 when MongoDB or S3 cannot be reached.
    retry_after_seconds: int = Field(5, ge=1)
    log_level: str = "info"
    # The original service's development endpoints (POST /dev/token, GET /dev/auth,
    # GET /dev/supremes): never in production; they mint supreme tokens for anyone.
    dev_endpoints: bool = False
    # /docs: a page rendered by the server from the OpenAPI document (no scripts). Off by default.
    docs: bool = False


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    refresh_seconds: float = Field(2.0, gt=0)
    low_stock_threshold: int = Field(1_000, ge=0)
    # Per-type overrides, e.g. CODE_CONSOLE_LOW_STOCK_THRESHOLDS='{"tm": 500, "external": 2000}'.
    low_stock_thresholds: dict[str, int] = Field(default_factory=dict)


class AuditSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX + "AUDIT_", extra="ignore")

    # Every change is recorded beside the codes (core/audit.py); a record is removed this many
    # days after it was made (a TTL index on MongoDB, a pruning step on the embedded store).
    retention_days: float = Field(90.0, gt=0)
    # False: no trail is recorded (nothing written besides the codes).
    enabled: bool = True
class AlertSettings(BaseSettings):
    """Low-stock alerts (core/alerts.py): checked by `code-console watch`, and by `code-console
    serve` when a webhook URL is set. Thresholds are the console's (low_stock_threshold[s]),
    overridden per campaign by `thresholds`."""

    model_config = SettingsConfigDict(env_prefix=PREFIX + "ALERT_", extra="ignore")

    # Where alerts are POSTed as JSON; none: alerts are only recorded and logged.
    webhook_url: str | None = None
    # Signs each POST (HMAC-SHA256, header X-Code-Console-Signature); required with a webhook URL.
    webhook_secret: str | None = None
    # Alert too when a pool would run out within this many hours at its recent rate; 0: never.
    horizon_hours: float = Field(0.0, ge=0)
    # The window the rate is taken over: 1h, 24h or 7d.
    window: str = "24h"
    check_seconds: float = Field(60.0, gt=0)
    # Each POST attempt is bounded by this; failed attempts are retried with exponential backoff.
    timeout_seconds: float = Field(5.0, gt=0)
    attempts: int = Field(5, ge=1, le=20)
    backoff_seconds: float = Field(1.0, ge=0)
    # Per-campaign thresholds, e.g. CODE_CONSOLE_ALERT_THRESHOLDS='{"SPRING-TOUR": {"tm": 500}}'.
    thresholds: dict[str, dict[str, int]] = Field(default_factory=dict)


GROUPS: dict[str, type[BaseSettings]] = {
    "mongo": MongoSettings,
    "s3": S3Settings,
    "inventory": InventorySettings,
    "jwt": JwtSettings,
    "api": ApiSettings,
    "console": ConsoleSettings,
    "audit": AuditSettings,
    "alert": AlertSettings,
}


def _flat_names() -> dict[str, tuple[str, str]]:
    """`mongo_uri` -> ("mongo", "uri"): each variable's name without CODE_CONSOLE_, lower case."""
    out: dict[str, tuple[str, str]] = {}
    for group, cls in GROUPS.items():
        prefix = cls.model_config["env_prefix"][len(PREFIX) :].lower()
        for field in cls.model_fields:
            out[prefix + field] = (group, field)
    return out


FLAT_NAMES = _flat_names()


class Settings(BaseModel):
    mongo: MongoSettings = Field(default_factory=MongoSettings)
    s3: S3Settings = Field(default_factory=S3Settings)
    inventory: InventorySettings = Field(default_factory=InventorySettings)
    jwt: JwtSettings = Field(default_factory=JwtSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    alert: AlertSettings = Field(default_factory=AlertSettings)

    @classmethod
    def of(cls, **values: Any) -> Settings:
        """Settings from flat names (`mongo_uri=...`), the environment filling the rest.

        Raises TypeError for a name no setting has."""
        grouped: dict[str, dict[str, Any]] = {}
        for name, value in values.items():
            if name not in FLAT_NAMES:
                raise TypeError(f"no setting CODE_CONSOLE_{name.upper()}")
            group, field = FLAT_NAMES[name]
            grouped.setdefault(group, {})[field] = value
        parts: dict[str, Any] = {group: GROUPS[group](**fields) for group, fields in grouped.items()}
        return cls(**parts)

    def but(self, **values: Any) -> Settings:
        """A copy with some settings replaced, by flat name (validated as from the environment)."""
        grouped: dict[str, dict[str, Any]] = {}
        for name, value in values.items():
            if name not in FLAT_NAMES:
                raise TypeError(f"no setting CODE_CONSOLE_{name.upper()}")
            group, field = FLAT_NAMES[name]
            grouped.setdefault(group, {})[field] = value
        update = {}
        for group, fields in grouped.items():
            current = getattr(self, group).model_dump()
            update[group] = GROUPS[group].model_validate({**current, **fields})
        return self.model_copy(update=update)

    @property
    def embedded(self) -> bool:
        return not self.mongo.uri

    @property
    def embedded_path(self) -> Path:
        """Where the embedded store keeps its codes (one file, shared by every process of this user)."""
        return self.inventory.sqlite_path or Path(platformdirs.user_data_dir("code-console")) / "codes.sqlite3"
