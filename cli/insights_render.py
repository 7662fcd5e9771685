"""What the health and results commands print: JSON objects for scripts (money
exact, durations in seconds, times in ISO 8601 UTC) and aligned tables for people."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from cli.render import table
from core.insights.views import (
    Drawdown,
    DriftStats,
    HealthView,
    OpenTrip,
    PeriodProfit,
    ResultsView,
    RoundTrip,
    RunStats,
    Summary,
    TradeStats,
    duration_text,
)

RATIO = Decimal("0.0001")  # percentages, means and factors: four decimals are plenty
SHOWN_TRIPS = 20
SHOWN_DAYS, SHOWN_WEEKS = 14, 8
MISSING = "-"


# --- JSON -------------------------------------------------------------------------------


def _ratio(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(RATIO, rounding=ROUND_HALF_UP)


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _book(view: HealthView | ResultsView, since: datetime | None) -> dict:
    return {
        "mode": view.mode.value,
        "account": view.account,
        "window": view.window,
        "since": _time(since),
    }


def runs_json(stats: RunStats) -> dict:
    return {
        "runs": stats.runs,
        "ok": stats.ok,
        "failed": stats.failed,
        "success_pct": _ratio(stats.success_pct),
        "duration_p50_ms": stats.duration_p50_ms,
        "duration_p95_ms": stats.duration_p95_ms,
        "api_calls_mean": _ratio(stats.api_calls_mean),
        "api_calls_max": stats.api_calls_max,
    }


def drift_json(stats: DriftStats) -> dict:
    return {
        "events": stats.events,
        "open": stats.open,
        "repaired": stats.repaired,
        "repair_median_s": _seconds(stats.repair_median),
        "repair_max_s": _seconds(stats.repair_max),
        "open_age_max_s": _seconds(stats.open_age_max),
    }


def _corrective_json(corrective) -> dict:
    return {"total": corrective.total, "by_reason": dict(corrective.by_reason)}


def health_json(view: HealthView) -> dict:
    report = view.report
    return {
        **_book(view, report.since),
        "now": _time(report.now),
        "runs": runs_json(report.runs),
        "by_kind": {kind: runs_json(stats) for kind, stats in report.by_kind.items()},
        "corrective_orders": _corrective_json(report.corrective),
        "drift": drift_json(report.drift),
        "open_drift": [
            {
                "account": d.account,
                "symbol": d.symbol,
                "started_at": _time(d.started_at),
                "age_s": _seconds(d.age),
            }
            for d in report.open_drift
        ],
        "unresolved_orders": report.unresolved_orders,
        "accounts": [
            {
                "account": a.account,
                "runs": runs_json(a.runs),
                "corrective_orders": _corrective_json(a.corrective),
                "drift": drift_json(a.drift),
                "last_good_sync_at": _time(a.last_good_sync_at),
                "since_last_good_sync_s": _seconds(a.since_last_good_sync),
                "unresolved_orders": a.unresolved_orders,
            }
            for a in report.accounts
        ],
        "symbols": [
            {
                "account": s.account,
                "symbol": s.symbol,
                "runs": runs_json(s.runs),
                "corrective_orders": _corrective_json(s.corrective),
                "drift": drift_json(s.drift),
            }
            for s in report.symbols
        ],
        "series": {
            "bucket_s": _seconds(report.bucket),
            "buckets": [
                {
                    "start": _time(b.start),
                    "runs": b.runs,
                    "ok": b.ok,
                    "success_pct": _ratio(b.success_pct),
                    "drift_events": b.drift_events,
                }
                for b in report.series
            ],
        },
    }


def trip_json(trip: RoundTrip) -> dict:
    return {
        "account": trip.account,
        "symbol": trip.symbol,
        "opened_at": _time(trip.opened_at),
        "closed_at": _time(trip.closed_at),
        "duration_s": _seconds(trip.duration),
        "fills": trip.fills,
        "qty_bought": trip.qty_bought,
        "qty_sold": trip.qty_sold,
        "avg_entry": trip.avg_entry,
        "avg_exit": trip.avg_exit,
        "cost": trip.cost,
        "proceeds": trip.proceeds,
        "fees": trip.fees,
        "profit": trip.profit,
        "profit_pct": _ratio(trip.profit_pct),
    }


def _open_json(trip: OpenTrip) -> dict:
    return {
        "account": trip.account,
        "symbol": trip.symbol,
        "opened_at": _time(trip.opened_at),
        "age_s": _seconds(trip.age),
        "fills": trip.fills,
        "qty": trip.qty,
        "qty_bought": trip.qty_bought,
        "avg_entry": trip.avg_entry,
        "cost": trip.cost,
        "fees": trip.fees,
    }


def stats_json(stats: TradeStats) -> dict:
    return {
        "trips": stats.trips,
        "wins": stats.wins,
        "losses": stats.losses,
        "win_rate_pct": _ratio(stats.win_rate_pct),
        "profit": stats.profit,
        "profit_factor": _ratio(stats.profit_factor),
        "expectancy": stats.expectancy,
        "best": trip_json(stats.best) if stats.best else None,
        "worst": trip_json(stats.worst) if stats.worst else None,
    }


def _periods_json(periods: tuple[PeriodProfit, ...]) -> list[dict]:
    return [{"start": p.start.isoformat(), "profit": p.profit, "trips": p.trips} for p in periods]


def summary_json(summary: Summary) -> dict:
    return {
        **stats_json(summary.stats),
        "daily": _periods_json(summary.daily),
        "weekly": _periods_json(summary.weekly),
        "monthly": _periods_json(summary.monthly),
    }


def drawdown_json(drawdown: Drawdown | None) -> dict | None:
    if drawdown is None:
        return None
    return {
        "max_abs": drawdown.max_abs,
        "max_pct": _ratio(drawdown.max_pct),
        "peak_at": _time(drawdown.peak_at),
        "peak_equity": drawdown.peak_equity,
        "trough_at": _time(drawdown.trough_at),
        "trough_equity": drawdown.trough_equity,
        "current_abs": drawdown.current_abs,
        "current_pct": _ratio(drawdown.current_pct),
        "current_peak_at": _time(drawdown.current_peak_at),
    }


def results_json(view: ResultsView) -> dict:
    return {
        **_book(view, view.since),
        "now": _time(view.now),
        "quote": view.quote,
        "realized": view.realized,
        "fees": view.fees,
        "outside": view.outside,
        "summary": summary_json(view.summary),
        "by_symbol": {symbol: summary_json(s) for symbol, s in view.by_symbol.items()},
        "drawdown": drawdown_json(view.drawdown),
        "closed_trips": [trip_json(trip) for trip in view.closed],
        "open_trips": [_open_json(trip) for trip in view.open],
    }


# --- text -------------------------------------------------------------------------------


def money(value: Decimal | None) -> str:
    if value is None:
        return MISSING
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"


def price(value: Decimal | None) -> str:
    """As many decimals as the size needs: `3,400.34`, `1.2345`, `0.00001234`."""
    if value is None:
        return MISSING
    size = abs(value)
    places = 2 if size >= 1000 else 4 if size >= 1 else 8
    whole, _, fraction = (
        f"{value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP):,f}".partition(".")
    )
    fraction = fraction.rstrip("0").ljust(2, "0")
    return f"{whole}.{fraction}"


def pct(value: Decimal | None) -> str:
    return MISSING if value is None else f"{money(value)}%"


def duration(value: timedelta | None) -> str:
    return MISSING if value is None else duration_text(value)


def when(value: datetime | None) -> str:
    return MISSING if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def book_line(title: str, view: HealthView | ResultsView, since: datetime | None) -> str:
    who = "all accounts" if view.account is None else f"account {view.account}"
    span = "all records" if since is None else f"last {view.window} (since {when(since)})"
    return f"{title}: {view.mode.value.upper()} book, {who}, {span}"


def _ms(value: int | None) -> str:
    return MISSING if value is None else f"{value:,} ms"


def health_text(view: HealthView) -> str:
    report = view.report
    runs, drift = report.runs, report.drift
    reasons = ", ".join(
        f"{n} {reason}" for reason, n in sorted(report.corrective.by_reason.items())
    )
    lines = [
        book_line("Sync health", view, report.since),
        f"runs               {runs.runs} ({runs.ok} ok, {runs.failed} failed), "
        f"success {pct(runs.success_pct)}",
        f"duration           p50 {_ms(runs.duration_p50_ms)}, p95 {_ms(runs.duration_p95_ms)}",
        f"calls per sync     {money(runs.api_calls_mean)} (max {runs.api_calls_max or 0})",
        f"drift              {drift.events} events ({drift.open} open, {drift.repaired} repaired"
        f"; repair median {duration(drift.repair_median)}, max {duration(drift.repair_max)})",
        f"corrective orders  {report.corrective.total}{f' ({reasons})' if reasons else ''}",
        f"unresolved orders  {report.unresolved_orders}",
    ]
    if not report.accounts:
        lines.append("No sync runs or orders recorded in this book yet.")
        return "\n".join(lines)
    lines += ["", _accounts_table(view), "", _symbols_table(view)]
    if report.open_drift:
        rows = [
            [d.account, d.symbol, when(d.started_at), duration(d.age)] for d in report.open_drift
        ]
        lines += ["", "open drift:", table(["account", "symbol", "since", "for"], rows)]
    return "\n".join(lines)


def _accounts_table(view: HealthView) -> str:
    headers = [
        "account",
        "runs",
        "success",
        "p50",
        "p95",
        "calls/sync",
        "drift",
        "open",
        "repair median",
        "corrective",
        "last good sync",
        "ago",
        "unresolved",
    ]
    rows = [
        [
            a.account,
            a.runs.runs,
            pct(a.runs.success_pct),
            _ms(a.runs.duration_p50_ms),
            _ms(a.runs.duration_p95_ms),
            money(a.runs.api_calls_mean),
            a.drift.events,
            a.drift.open,
            duration(a.drift.repair_median),
            a.corrective.total,
            when(a.last_good_sync_at),
            duration(a.since_last_good_sync),
            a.unresolved_orders,
        ]
        for a in view.report.accounts
    ]
    return table(headers, rows, right={1, 2, 3, 4, 5, 6, 7, 9, 12})


def _symbols_table(view: HealthView) -> str:
    headers = [
        "account",
        "symbol",
        "runs",
        "success",
        "drift",
        "open",
        "repair median",
        "corrective",
    ]
    rows = [
        [
            s.account,
            s.symbol,
            s.runs.runs,
            pct(s.runs.success_pct),
            s.drift.events,
            s.drift.open,
            duration(s.drift.repair_median),
            s.corrective.total,
        ]
        for s in view.report.symbols
    ]
    return table(headers, rows, right={2, 3, 4, 5, 7})


def _trip_line(label: str, trip: RoundTrip | None, quote: str) -> str:
    if trip is None:
        return f"{label}  {MISSING}"
    return (
        f"{label}  {trip.symbol} {money(trip.profit)} {quote} ({pct(trip.profit_pct)}), "
        f"closed {when(trip.closed_at)}"
    )


def drawdown_line(drawdown: Drawdown | None, quote: str) -> str:
    if drawdown is None:
        return "drawdown      no equity recorded in this window"
    if drawdown.peak_at is None:
        worst = "none: equity never fell"
    else:
        worst = (
            f"{money(drawdown.max_abs)} {quote} ({pct(drawdown.max_pct)}) from "
            f"{when(drawdown.peak_at)} to {when(drawdown.trough_at)}"
        )
    current = (
        f"{money(drawdown.current_abs)} {quote} ({pct(drawdown.current_pct)}) below the "
        f"peak of {when(drawdown.current_peak_at)}"
    )
    return f"max drawdown  {worst}\nnow           {current}"


def results_text(view: ResultsView) -> str:
    stats, quote = view.summary.stats, view.quote
    lines = [
        book_line("Trading results", view, view.since),
        f"closed trips  {stats.trips} ({stats.wins} won, {stats.losses} lost), "
        f"win rate {pct(stats.win_rate_pct)}",
        f"profit        {money(stats.profit)} {quote} after fees; profit factor "
        f"{money(stats.profit_factor)}; expectancy {money(stats.expectancy)} {quote} per trip",
        f"realized      {money(view.realized)} {quote} before fees, fees {money(view.fees)} "
        f"{quote} (the ledger, by average cost: the Trading page's cards)",
        f"outside       {money(view.outside)} {quote} of holdings changed outside the app "
        "(in equity, not trading PnL; the drawdown leaves them out)",
        _trip_line("best trip    ", stats.best, quote),
        _trip_line("worst trip   ", stats.worst, quote),
        drawdown_line(view.drawdown, quote),
    ]
    if view.by_symbol:
        lines += ["", _by_symbol_table(view)]
    for label, periods, shown in (
        ("day", view.summary.daily, SHOWN_DAYS),
        ("week of", view.summary.weekly, SHOWN_WEEKS),
        ("month", view.summary.monthly, None),
    ):
        if periods:
            latest = periods if shown is None else periods[-shown:]
            rows = [[p.start.isoformat(), p.trips, money(p.profit)] for p in latest]
            lines += ["", table([label, "trips", f"profit ({quote})"], rows, right={1, 2})]
    if view.closed:
        lines += ["", f"latest closed trips (of {len(view.closed)}):", _trips_table(view)]
    if view.open:
        lines += ["", "open trips:", _open_table(view)]
    if not view.closed and not view.open:
        lines += ["", "No round trips recorded in this window yet."]
    return "\n".join(lines)


def _by_symbol_table(view: ResultsView) -> str:
    headers = [
        "symbol",
        "trips",
        "won",
        "lost",
        "win rate",
        "profit",
        "profit factor",
        "expectancy",
    ]
    rows = [
        [
            symbol,
            s.stats.trips,
            s.stats.wins,
            s.stats.losses,
            pct(s.stats.win_rate_pct),
            money(s.stats.profit),
            money(s.stats.profit_factor),
            money(s.stats.expectancy),
        ]
        for symbol, s in view.by_symbol.items()
    ]
    return table(headers, rows, right={1, 2, 3, 4, 5, 6, 7})


def _trips_table(view: ResultsView) -> str:
    headers = ["closed", "symbol", "held", "qty", "entry", "exit", "fees", "profit", "profit %"]
    rows = [
        [
            when(t.closed_at),
            t.symbol,
            duration(t.duration),
            t.qty_sold,
            price(t.avg_entry),
            price(t.avg_exit),
            money(t.fees),
            money(t.profit),
            pct(t.profit_pct),
        ]
        for t in reversed(view.closed[-SHOWN_TRIPS:])
    ]
    return table(headers, rows, right={3, 4, 5, 6, 7, 8})


def _open_table(view: ResultsView) -> str:
    headers = ["opened", "symbol", "for", "qty", "entry", "cost", "fees"]
    rows = [
        [
            when(t.opened_at),
            t.symbol,
            duration(t.age),
            t.qty,
            price(t.avg_entry),
            money(t.cost),
            money(t.fees),
        ]
        for t in view.open
    ]
    return table(headers, rows, right={3, 4, 5, 6})
