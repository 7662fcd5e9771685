"""Sync health, trading results and the CSV export: what the Sync health and Results pages
and the health, results and export commands ask for (the alert test is alert_test.py's).

Reports read the database only (and the market limits ccxt already holds): never an
exchange call per browser tab. pandas stays in here and below; the views are plain values.
"""

from __future__ import annotations

import csv
import dataclasses
import threading
from collections.abc import Hashable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TextIO
from urllib.parse import urlsplit

import pandas as pd

from core.domain import Mode
from core.errors import InputError
from core.exchange.gateway import GatewayError, UnknownSymbol
from core.insights import equity_fold, health_fold
from core.insights.equity_fold import EquityFold
from core.insights.health import compute_health
from core.insights.health_fold import HealthFold
from core.insights.ledger_fold import LedgerFold, fold, report
from core.insights.results import (
    Booked,
    ResultsReport,
    outside_since,
    realized_since,
)
from core.insights.views import EXPORT_TABLES, HealthView, ResultsView
from core.operations.alerts import (
    AlertRecord,
    recent_alerts,
)
from core.service.composition import ACCOUNT, Wiring
from core.service.inputs import parse_since
from core.service.insights_cache import VersionedCache
from core.service.stored_mode import StoredMode
from core.store import analytics, equity_folds, health_folds, ledger_folds
from core.store.models import utcnow

ALERT_ROWS = 50


class Insights:
    """The read models of the two pages and the four commands, over the wiring's database;
    loaded frames are kept until their records change (core.service.insights_cache)."""

    def __init__(self, wiring: Wiring, stored: StoredMode):
        self.wiring = wiring
        self._stored = stored
        self._kept = VersionedCache()
        self._folds: dict[Mode, HealthFold] = {}
        self._ledgers: dict[tuple[Mode, str | None], LedgerFold] = {}
        self._equities: dict[tuple[Mode, str | None], EquityFold] = {}
        self._fold_lock = threading.Lock()

    def accounts(self) -> list[str]:
        """The accounts a report can be narrowed to: the traded one and ACCOUNTS_FILE's."""
        return self.wiring.account_names()

    def health(
        self, window: str = "24h", account: str | None = None, mode: Mode | None = None
    ) -> HealthView:
        """Sync health of a book over the window. The book is `mode`'s (by default the mode
        the dashboard is in; a monitored account's is always LIVE), of one account or all."""
        span = parse_since(window)
        mode = self.book_mode(account, mode)
        folded = self._kept_read(
            ("health runs", mode),
            lambda session: analytics.runs_version(session, mode.value),
            lambda: self._folded(mode),
        )
        orders = self._kept_read(
            ("health orders", mode, account),
            lambda session: analytics.orders_version(session, mode.value, account),
            lambda: self._read(analytics.order_frame, mode, account),
        )
        now = utcnow()
        since = None if span is None else now - span
        report = health_fold.report(folded, orders, now, since, account)
        if report is None:  # a record later than now (a clock set back): the full computation
            frames = self._read(analytics.health_frames, mode, account)
            report = compute_health(frames.runs, frames.observations, frames.orders, now, since)
        return HealthView(mode, account, window, report)

    def results(
        self, window: str = "all", account: str | None = None, mode: Mode | None = None
    ) -> ResultsView:
        """Trading results of a book (chosen as for `health`), from its ledger: the round trips
        closed in the window, every trip still open, the realized PnL and fees booked in the
        window, the window's equity beside that equity less the changes outside the app
        (the ledger's transfers: in equity, never trading PnL), and the drawdown of the
        latter."""
        span = parse_since(window)
        mode = self.book_mode(account, mode)
        with self.wiring.db.session() as session:
            ledger = analytics.ledger_version(session, mode.value, account)
            equity = analytics.equity_version(session, mode.value, account)
        report, sums, outside = self._kept.get(
            ("results ledger", mode, account), ledger, lambda: self._ledger_results(mode, account)
        )
        folded = self._kept.get(
            ("results equity", mode, account),
            (ledger, equity),
            lambda: self._equity_fold(mode, account, outside),
        )
        now = utcnow()
        since = None if span is None else now - span
        start = folded.start_of(since)
        curve = self._kept.get(
            ("results curve", mode, account, span),
            (ledger, equity, start),
            lambda: equity_fold.curve(folded, outside, start),
        )
        if since is None:
            closed, summary, by_symbol = report.closed, report.overall, report.by_symbol
        else:
            closed = report.closed.since(since)
            summary, by_symbol = closed.summarized()
        realized, fees = realized_since(sums, since)
        return ResultsView(
            mode=mode,
            account=account,
            window=window,
            quote=self.wiring.quote,
            now=now,
            since=since,
            summary=summary,
            by_symbol=by_symbol,
            closed=closed,
            open=tuple(dataclasses.replace(trip, age=now - trip.opened_at) for trip in report.open),
            drawdown=curve.drawdown,
            equity=curve.equity,
            traded=curve.traded,
            outside=outside_since(outside, since),
            realized=realized,
            fees=fees,
        )

    def alerts(
        self, limit: int = ALERT_ROWS, account: str | None = None, mode: Mode | None = None
    ) -> list[AlertRecord]:
        """The newest alerts of a book (chosen as for `health`: a LIVE page never lists a
        SIM alert), with how their delivery went; a test message belongs to every book."""
        mode = self.book_mode(account, mode)
        return recent_alerts(self.wiring.db, limit, mode.value, account)

    def book_mode(self, account: str | None = None, mode: Mode | None = None) -> Mode:
        """The mode a report or export of `account` covers: `mode` when given, else the mode
        the dashboard is in (a monitored account's is always LIVE). Raises InputError for an
        unknown account."""
        self._check_account(account)
        if mode is not None:
            return mode
        return Mode.LIVE if account not in (None, ACCOUNT) else self._stored.shown()

    def export(
        self,
        table: str,
        out: TextIO,
        window: str = "all",
        account: str | None = None,
        mode: Mode | None = None,
    ) -> int:
        """Write `table` (fills, ledger, orders, syncs or alerts) of one book (chosen as for
        `health`) as CSV to `out`: the rows from the window's start on, of `account` when
        given (alerts: with those of no book or account, such as a test message). Money is written
        exactly as stored, times in ISO 8601 UTC, and no secret of the settings appears.
        Returns the number of rows written."""
        if table not in EXPORT_TABLES:
            raise InputError(f"export takes one of {', '.join(EXPORT_TABLES)}, not {table!r}")
        span = parse_since(window)
        mode = self.book_mode(account, mode)
        since = None if span is None else utcnow() - span
        secrets = self._secrets()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(analytics.export_columns(table))
        written = 0
        with self.wiring.db.session() as session:
            for row in analytics.export_rows(session, table, since, account, mode.value):
                writer.writerow([csv_cell(value, secrets) for value in row])
                written += 1
        return written

    # --- the pieces ------------------------------------------------------------------

    def _check_account(self, account: str | None) -> None:
        if account is None:
            return
        known = self.wiring.account_names()
        if account not in known:
            raise InputError(f"unknown account {account!r} (accounts: {', '.join(known)})")

    def _read(self, reader, mode: Mode, account: str | None):
        with self.wiring.db.session() as session:
            return reader(session, mode.value, account)

    def _kept_read(self, key: Hashable, version_of, load):
        with self.wiring.db.session() as session:
            version = version_of(session)
        return self._kept.get(key, version, load)

    def _folded(self, mode: Mode) -> HealthFold:
        """The mode's health fold brought up to its newest run: this process's own, or the
        one stored (core.store.health_folds), with the runs recorded since folded in; stored
        again for the other processes. A run that observed a symbol before the fold's latest
        observation of it, or one committed below the watermark after the fold passed it, makes
        the fold start again from the first run."""
        with self._fold_lock:
            kept = self._folds.get(mode)
        with self.wiring.db.session() as session:
            start = kept if kept is not None else health_folds.load(session, mode.value)
            runs, seen = analytics.run_frames(session, mode.value, None, start.last_run_id)
            missed = analytics.runs_missed(session, mode.value, start.last_run_id, len(start.runs))
        folded, refolded = health_fold.fold(start, runs, seen), False
        if folded is None or missed:
            runs, seen = self._read(analytics.run_frames, mode, None)
            folded, refolded = health_fold.fold(HealthFold(), runs, seen), True
        if folded is not start:
            with self.wiring.db.session() as session:
                health_folds.save(session, mode.value, start, folded, refolded)
        with self._fold_lock:
            self._folds[mode] = folded
        return folded

    def _ledger_results(
        self, mode: Mode, account: str | None
    ) -> tuple[ResultsReport, Booked, pd.DataFrame]:
        """The results over the whole ledger but the drawdown (kept with the equity curve:
        an equity snapshot comes every 30 s and changes no round trip), the ledger's realized
        PnL and fees as running sums, and its changes outside the app."""
        folded = self._ledger_fold(mode, account)
        outside = self._read(analytics.outside_frame, mode, account)
        return report(folded, utcnow()), folded.booked, outside

    def _ledger_fold(self, mode: Mode, account: str | None) -> LedgerFold:
        """The book's ledger fold (core.insights.ledger_fold) brought up to its newest entry:
        this process's own, or the one stored (core.store.ledger_folds), with only the entries
        recorded since read and folded in; stored again for the other processes. One
        committed below the fold's watermark (two writers on PostgreSQL), or an answer of None
        from the fold, makes it start again from the first entry."""
        with self._fold_lock:
            kept = self._ledgers.get((mode, account))
        with self.wiring.db.session() as session:
            start = kept if kept is not None else ledger_folds.load(session, mode.value, account)
            entries = analytics.ledger_frame(session, mode.value, account, start.last_id)
            missed = analytics.ledger_missed(
                session, mode.value, account, start.last_id, start.entries
            )
        symbols = {symbol for _, symbol in start.tails} | set(entries["symbol"])
        dust = self._dust(sorted(symbols), start.dust)
        folded = None if missed else fold(start, entries, _last_id(entries, start.last_id), dust)
        refolded = folded is None
        if refolded:
            entries = self._read(analytics.ledger_frame, mode, account)
            folded = fold(LedgerFold(), entries, _last_id(entries, 0), dust)
        if refolded or folded.last_id != start.last_id:
            with self.wiring.db.session() as session:
                ledger_folds.save(session, mode.value, account, start, folded, refolded)
        with self._fold_lock:
            self._ledgers[(mode, account)] = folded
        return folded

    def _equity_fold(self, mode: Mode, account: str | None, outside: pd.DataFrame) -> EquityFold:
        """The book's equity fold (core.insights.equity_fold) brought up to its newest
        snapshot, as `_ledger_fold` brings the ledger's: this process's own or the one stored,
        with only the snapshots recorded since read; stored again for the other processes. One
        committed below the watermark (two writers on PostgreSQL), or an answer of None from
        the fold (a clock set back, a change outside the app dated among the points folded),
        makes it start again from the first snapshot."""
        with self._fold_lock:
            kept = self._equities.get((mode, account))
        with self.wiring.db.session() as session:
            start = kept if kept is not None else equity_folds.load(session, mode.value, account)
            new = analytics.equity_frame(session, mode.value, account, start.last_id)
            missed = analytics.snapshots_missed(
                session, mode.value, account, start.last_id, start.snapshots
            )
        folded = (
            None if missed else equity_fold.fold(start, new, _last_id(new, start.last_id), outside)
        )
        refolded = folded is None
        if refolded:
            new = self._read(analytics.equity_frame, mode, account)
            folded = equity_fold.fold(EquityFold(), new, _last_id(new, 0), outside)
        if refolded or folded.last_id != start.last_id:
            with self.wiring.db.session() as session:
                equity_folds.save(session, mode.value, account, start, folded, refolded)
        with self._fold_lock:
            self._equities[(mode, account)] = folded
        return folded

    def _dust(self, symbols: Sequence[str], known: Mapping[str, Decimal]) -> dict[str, Decimal]:
        """Per symbol, the market's minimum amount: a holding below it cannot be sold, so the
        round trip that leaves no more than that is closed. ccxt keeps the markets once they
        are loaded (at start-up); while the exchange cannot give them, the dust `known` when
        the ledger was last folded holds (a command without the exchange would otherwise
        fold every entry again with no dust)."""
        limits = {}
        for symbol in symbols:
            try:
                limits[symbol] = self.wiring.market_data.market_rules(symbol).min_amount
            except UnknownSymbol:
                continue
            except GatewayError:
                limits.update((s, known[s]) for s in symbols if s not in limits and s in known)
                break
        return limits

    def _secrets(self) -> list[str]:
        """The settings' secrets, and the password of each alert URL on its own."""
        settings = self.wiring.settings
        urls = settings.ALERT_URLS.get_secret_value().replace(",", " ").split()
        passwords = [urlsplit(url).password for url in urls]
        return [secret for secret in [*settings.secrets, *passwords] if secret]


def _last_id(entries: pd.DataFrame, before: int) -> int:
    return int(entries["id"].max()) if len(entries) else before


def csv_cell(value, secrets: Sequence[str] = ()) -> str:
    """One CSV field: Decimal as its exact digits, times in ISO 8601, booleans as
    true/false, nothing as empty, and text with every secret masked."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    for secret in secrets:
        text = text.replace(secret, "****")
    return text
