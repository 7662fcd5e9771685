"""`alert-test`: a test message to every ALERT_URLS address, sent now (not queued), and
stored as a `test` alert with how delivery went, so the Sync health page lists it. Apart
from the insights (pandas), so the command loads only apprise and the store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from core.errors import InputError
from core.operations import metrics
from core.operations.alerts import (
    FAILED,
    RAISED,
    SENT,
    DeliveryResult,
    incident_key,
    parse_alert_urls,
    send_test,
)
from core.service.composition import Wiring
from core.store import alert_records
from core.store.models import utcnow

TEST_TITLE = "Trading dashboard: test alert"
TEST_BODY = "This is a test: alerts from the trading dashboard reach this address."
NO_ALERT_URLS = (
    "ALERT_URLS is empty: set it to one or more apprise URLs (json://host:port/path, "
    "tgram://bottoken/chatid, ...) and run alert-test again"
)


class AlertTest:
    def __init__(self, wiring: Wiring):
        self.wiring = wiring

    def send(self) -> list[DeliveryResult]:
        """Each result names its address without its secrets. Raises InputError when
        ALERT_URLS is empty."""
        settings = self.wiring.settings
        urls = parse_alert_urls(settings.ALERT_URLS.get_secret_value())
        if not urls:
            raise InputError(NO_ALERT_URLS)
        started = utcnow()
        results = send_test(urls, settings.ALERT_TIMEOUT_SECONDS)
        self._record(results, started)
        return results

    def _record(self, results: Sequence[DeliveryResult], started: datetime) -> None:
        failed = [result for result in results if not result.delivered]
        delivery = FAILED if failed else SENT
        detail = "; ".join(f"{_label(r.target)}: {r.detail}" for r in failed) or None
        with self.wiring.db.session() as session:
            alert_id = alert_records.add_alert(
                session,
                incident=incident_key("test", started.isoformat()),
                kind="test",
                state=RAISED,
                title=TEST_TITLE,
                body=TEST_BODY,
                account=None,
                symbol=None,
                created_at=started,
            )
            delivered_at = utcnow() if len(failed) < len(results) else None
            alert_records.record_delivery(session, alert_id, delivery, detail, delivered_at)
        metrics.count_alert("test", RAISED, delivery)


def _label(shown: str) -> str:
    """scheme://host of an address: all of it the alerts table keeps."""
    parts = urlsplit(shown)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
