"""What the engine's outcomes set off beside their own records: alerts (one per incident,
sent off the trade path by the alerts' sender thread) and Prometheus metrics.

Every trade, check, stop, flatten and resume of the service reports here, so an incident
is named the same way wherever it starts and clears."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from core.domain import Origin, TradeResult
from core.operations import metrics
from core.operations.alerts import IncidentAlerts, UnreachableWatch, incident_key
from core.views import AccountCheckView

log = logging.getLogger(__name__)


class Observers:
    def __init__(self, alerts: IncidentAlerts, unreachable_after: float):
        self.alerts = alerts
        self.unreachable = UnreachableWatch(alerts, unreachable_after)

    def trade_done(self, account: str, result: TradeResult, origin: Origin, kind: str) -> None:
        """A trade that ran (a refused one did nothing to report)."""
        if result.refused:
            return
        metrics.observe_sync_run(
            account, kind, result.ok, result.duration_ms / 1000, result.api_calls
        )
        for order in result.orders:
            metrics.count_order(account, result.symbol, order.side.value, origin.value)
        incident = incident_key("verify_failed", account, result.symbol)
        if result.ok:
            metrics.mark_good_sync(account, datetime.now(UTC))
            self.alerts.clear_incident(incident, f"{result.symbol}: {result.message}")
        else:
            self.alerts.raise_incident(
                incident,
                "verify_failed",
                f"{account}: {result.symbol} {result.target.value} not verified",
                result.message,
                account=account,
                symbol=result.symbol,
            )

    def check_done(self, check: AccountCheckView, drift_started: list[str]) -> None:
        """A periodic check or monitor run of one account."""
        account = check.account
        metrics.observe_sync_run(
            account, "check", check.ok, check.duration_ms / 1000, check.api_calls
        )
        self.unreachable.record(account, check.ok)
        failed = incident_key("sync_failed", account)
        if not check.ok:
            self.alerts.raise_incident(
                failed,
                "sync_failed",
                f"{account}: the check failed",
                f"The check of account {account} could not read it: {check.error}",
                account=account,
            )
            return
        metrics.mark_good_sync(account, datetime.now(UTC))
        self.alerts.clear_incident(failed, f"The check of account {account} works again.")
        for symbol in drift_started:
            metrics.count_drift(account, symbol)
        for symbol, target in check.drift.items():
            self.alerts.raise_incident(
                incident_key("drift", account, symbol),
                "drift",
                f"{account}: {symbol} drifted",
                f"{symbol} no longer holds the trader's target {target.value}.",
                account=account,
                symbol=symbol,
            )

    def monitor_done(self, check: AccountCheckView) -> None:
        """A diagnose or sync of the position monitor: counted, never alerted (the periodic
        check is what watches while nobody does)."""
        metrics.observe_sync_run(
            check.account, "monitor", check.ok, check.duration_ms / 1000, check.api_calls
        )

    def in_sync(self, account: str, symbols: list[str]) -> None:
        """Symbols found holding their target again: any drift on them is over."""
        for symbol in symbols:
            self.alerts.clear_incident(
                incident_key("drift", account, symbol), f"{symbol} holds its target again."
            )

    def unresolved(self, account: str, count: int) -> None:
        metrics.set_unresolved(account, count)

    def stop_fired(self, account: str, symbol: str, text: str, stop_id: int) -> None:
        metrics.count_stop_trigger(account, symbol)
        self.alerts.raise_incident(
            incident_key("stop_triggered", account, f"{symbol}#{stop_id}"),
            "stop_triggered",
            f"{account}: stop on {symbol} fired",
            text,
            account=account,
            symbol=symbol,
        )

    def kill_switch(self, account: str, text: str) -> None:
        self.alerts.raise_incident(
            incident_key("kill_switch", account),
            "kill_switch",
            f"{account}: trading halted by the kill switch",
            text,
            account=account,
        )

    def resumed(self, account: str) -> None:
        self.alerts.clear_incident(
            incident_key("kill_switch", account), f"Trading on {account} resumed."
        )
