"""The one place that wires the program, for every mode.

- `configured()`: the configured MongoDB and S3, or the embedded SQLite store when no MongoDB
  is configured (the command line and the console);
- `demo()`: a throwaway SQLite file and a local folder for a bucket, seeded with sample
  campaigns, with simulated verification traffic (never the user's own store);
- `serving()`: the HTTP API's service, which refuses to run on the embedded store unless
  asked explicitly (a mistyped variable must not serve an empty inventory);
- `operator()`: who acts on the command line and in the console.

Front ends receive a `Runtime` and call only its `service` (the CodeService façade).
"""

from __future__ import annotations

import getpass
import os
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from code_console.config import Settings
from code_console.core import mongo
from code_console.core.audit import AuditTrail
from code_console.core.errors import NotConfigured
from code_console.core.models import Channel, Principal
from code_console.core.objects import S3Objects, s3_client
from code_console.core.service import CodeService
from code_console.core.sqlite import SqliteStore

if TYPE_CHECKING:
    from code_console.core.contract import Store
    from code_console.demo import VerificationTraffic

DEMO_STORE_LABEL = "embedded demo (SQLite, discarded at exit)"
DEMO_BATCH_SIZE = 2_000


@dataclass
class Runtime:
    """A wired service and what must happen when the program ends."""

    settings: Settings
    service: CodeService
    demo: bool = False
    traffic: VerificationTraffic | None = None  # in the demo
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def cleanup(self) -> None:
        """Stop the demo's traffic and remove its files (the store is closed by the caller, bounded in time)."""
        if self.traffic is not None:
            self.traffic.stop(wait=False)
        for step in reversed(self.cleanups):
            step()


def open_service(
    settings: Settings | None = None,
    *,
    objects=None,
    clock=None,
    ensure_indexes: bool = True,
    store_label: str | None = None,
) -> CodeService:
    """A CodeService on the configured store and bucket. With `ensure_indexes` False the store
    prepares itself on first use instead (the console starts even while MongoDB is down)."""
    settings = settings or Settings()
    store: Store
    if settings.embedded or settings.mongo.uri is None:
        store = SqliteStore(settings.embedded_path, label=store_label)
    else:
        store = mongo.connect(
            settings.mongo.uri,
            settings.mongo.db,
            timeout_seconds=settings.mongo.timeout_seconds,
            batch_timeout_seconds=settings.mongo.batch_timeout_seconds,
        )
    if ensure_indexes:
        store.prepare()
    if objects is None and settings.s3.bucket:
        client = s3_client(endpoint_url=settings.s3.endpoint_url, region=settings.s3.region, timeout_seconds=settings.s3.timeout_seconds)
        objects = S3Objects(client, settings.s3.bucket)
    kwargs = {"clock": clock} if clock else {}
    inventory = settings.inventory
    service = CodeService(
        store,
        objects,
        reservation_ttl=timedelta(seconds=inventory.reservation_ttl_seconds),
        batch_size=inventory.upload_batch_size,
        reserve_max_count=inventory.reserve_max_count,
        code_max_length=inventory.code_max_length,
        **kwargs,
    )
    if settings.audit.enabled:
        # The one observer that records every change beside the codes (core/audit.py).
        service.subscribe(AuditTrail(store, timedelta(days=settings.audit.retention_days)))
    return service


def configured(settings: Settings | None = None, *, prepare: bool = True) -> Runtime:
    settings = settings or Settings()
    return Runtime(settings, open_service(settings, ensure_indexes=prepare))


def demo(settings: Settings | None = None, *, seed: bool = True) -> Runtime:
    """The demo: its own throwaway database and bucket, sample campaigns and simulated traffic."""
    from code_console import demo as sample

    folder = tempfile.TemporaryDirectory(prefix="code-console-demo-")
    root = Path(folder.name)
    settings = (settings or Settings()).but(mongo_uri=None, sqlite_path=root / "demo.sqlite3", upload_batch_size=DEMO_BATCH_SIZE)
    service = open_service(settings, objects=sample.write_bucket(root / "bucket"), store_label=DEMO_STORE_LABEL)
    if seed:
        sample.seed(service)
        sample.seed_history(service)
    pools = sorted({(f.campaign, f.code_type) for f in sample.SAMPLE_FILES if f.upload})
    return Runtime(settings, service, demo=True, traffic=sample.VerificationTraffic(service, pools), cleanups=[folder.cleanup])


def serving(settings: Settings, *, embedded: bool) -> Runtime:
    """The API's service. Refuses the embedded store unless `embedded` (NotConfigured), and
    refuses `embedded` when a MongoDB is configured (an ambiguous command)."""
    if embedded and settings.mongo.uri:
        raise NotConfigured(
            "store_ambiguous", "--embedded was given but CODE_CONSOLE_MONGO_URI is set: unset the variable, or drop --embedded"
        )
    if not embedded and not settings.mongo.uri:
        raise NotConfigured(
            "mongo_not_configured",
            "CODE_CONSOLE_MONGO_URI is not set: set it to serve codes from MongoDB, or pass --embedded "
            f"to serve the embedded store ({settings.embedded_path})",
        )
    return configured(settings)


def operator(settings: Settings, channel: Channel) -> Principal:
    """Who acts on the command line or in the console: CODE_CONSOLE_OPERATOR if set, else the
    login user (over SSH, the SSH user). Local operators act as supreme principals."""
    name = settings.inventory.operator or _login_user()
    return Principal(subject=name, supreme=True, channel=channel)


def _login_user() -> str:
    try:
        return getpass.getuser()  # LOGNAME, USER, LNAME, USERNAME, then the password database
    except (KeyError, OSError):  # no passwd entry (a container with an arbitrary uid)
        return f"uid-{os.getuid()}"


def alert_checker(settings: Settings, service: CodeService, principal: Principal, *, on_alert=None):
    """The low-stock checker the settings describe (config.AlertSettings): the console's thresholds
    per type, per-campaign overrides, the horizon and the webhook. Raises NotConfigured for a
    webhook URL without a secret (an unsigned alert could not be told from a forged one)."""
    from code_console.core.alerts import AlertChecker, AlertPolicy, Webhook
    from code_console.core.models import CodeType
    from code_console.core.usage import Window

    alert, console = settings.alert, settings.console
    thresholds = {t: int(console.low_stock_thresholds.get(t.value, console.low_stock_threshold)) for t in CodeType}
    policy = AlertPolicy(
        thresholds=thresholds,
        per_campaign=alert.thresholds,
        horizon=timedelta(hours=alert.horizon_hours) if alert.horizon_hours > 0 else None,
        window=Window.parse(alert.window),
    )
    webhook = None
    if alert.webhook_url:
        if not alert.webhook_secret:
            raise NotConfigured(
                "alert_secret_missing", "CODE_CONSOLE_ALERT_WEBHOOK_URL is set but CODE_CONSOLE_ALERT_WEBHOOK_SECRET is not: alerts are signed"
            )
        webhook = Webhook(alert.webhook_url, alert.webhook_secret, alert.timeout_seconds, alert.attempts, alert.backoff_seconds)
    return AlertChecker(service, principal, policy, webhook, on_alert=on_alert)
