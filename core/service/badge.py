"""The mode badge: one rule that never says more than is known.

SIM is paper trading. LIVE+SYNC is green only when every watched symbol was in sync at
its last check or trade and the account was read recently; a holding changed outside the
app stays amber until the trader acknowledges it; drift anywhere stays amber until repaired; an unreachable exchange is amber; a failed verification is red; a halted
account says HALTED. (A page that cannot reach its own server greys the badge itself.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from core.domain import Mode
from core.views import Badge

LIVE = "LIVE+SYNC"


@dataclass(frozen=True)
class SymbolSync:
    symbol: str
    status: str | None  # in_sync, drift, failed; None: no sync has looked at it yet
    message: str


@dataclass(frozen=True)
class SyncFacts:
    mode: Mode
    exchange_label: str
    exchange_error: str | None
    symbols: list[SymbolSync]
    last_check_error: str | None
    account_read_age: timedelta | None
    stale_after: timedelta
    halted: str | None = None
    changed_outside: list[str] = field(default_factory=list)  # assets not acknowledged yet


def badge(facts: SyncFacts) -> Badge:
    label = facts.exchange_label
    if facts.halted:
        return Badge("HALTED", "danger", facts.halted)
    if facts.mode is Mode.SIM:
        if facts.exchange_error:
            return Badge("SIM", "warning", f"Paper trading; {facts.exchange_error}")
        return Badge("SIM", "info", f"Paper trading against live prices from {label}")
    failed = [s for s in facts.symbols if s.status == "failed"]
    if failed:
        return Badge(LIVE, "danger", f"Verification failed: {failed[0].message}")
    if facts.changed_outside:
        assets = ", ".join(facts.changed_outside)
        return Badge(LIVE, "warning", f"{assets} changed outside the app \N{EN DASH} acknowledge")
    drift = [s for s in facts.symbols if s.status == "drift"]
    if drift:
        names = ", ".join(s.message or s.symbol for s in drift)
        return Badge(LIVE, "warning", f"Drift until repaired: {names}")
    if facts.last_check_error:
        return Badge(LIVE, "warning", f"{label} unreachable: {facts.last_check_error}")
    if facts.exchange_error:
        return Badge(LIVE, "warning", facts.exchange_error)
    age = facts.account_read_age
    if age is None:
        return Badge(LIVE, "warning", f"The account on {label} has not been read yet")
    if age > facts.stale_after:
        return Badge(LIVE, "warning", f"The account was last read {int(age.total_seconds())} s ago")
    return Badge(LIVE, "success", f"Synchronized with {label}: every symbol in sync")
