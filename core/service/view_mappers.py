"""Stored rows into the views the page and the command line show: one small mapper per
view, no reads."""

from __future__ import annotations

from decimal import Decimal

from core.domain import ZERO, Balance, OrderReport, OrderStatus, PositionState, Side, quote_asset
from core.exchange.venues import venue
from core.protection.stops import distance_pct
from core.store import jobs
from core.trading.state import state_label
from core.valuation import asset_value
from core.views import (
    BalanceView,
    DerivativePositionView,
    FillView,
    OrderView,
    StopView,
    SyncRunView,
    TradeActivity,
)


def derivative_view(account: str, exchange: str, row, stop) -> DerivativePositionView:
    entry = row.cost_basis / row.qty if row.qty else None
    mark = row.last_price
    return DerivativePositionView(
        account=account,
        exchange=venue(exchange).name,
        symbol=row.symbol,
        side="long" if row.qty > 0 else "short",
        qty=row.qty,
        entry=entry,
        entry_source=row.entry_source,
        mark=mark,
        unrealized=(mark - entry) * row.qty if mark is not None and entry is not None else None,
        leverage=row.leverage,
        liquidation_price=row.liquidation_price,
        stop=stop_view(stop, mark),
    )


def stop_view(stop, mark: Decimal | None) -> StopView | None:
    """The stop on a row: its prices, its distance from the mark and where it lives."""
    if stop is None:
        return None
    distance = None
    if stop.stop_loss is not None and mark:
        distance = distance_pct(stop.side, stop.stop_loss, mark)
    return StopView(
        stop.stop_loss, stop.take_profit, distance, stop.placement, stop.status, stop.message
    )


def book_unrealized(rows, prices: dict[str, Decimal]) -> Decimal:
    """The card's unrealized PnL: every holding the book has a cost for, dust included (a
    flat row shows none, but the dust's value is in the equity, so it counts here)."""
    total = ZERO
    for row in rows:
        price = prices.get(row.symbol)
        if price is not None and row.qty > 0:
            total += price * row.qty - row.cost_basis
    return total


def balance_views(
    balances: dict[str, Balance], prices, quote: str, steps: dict[str, Decimal]
) -> list[BalanceView]:
    """Every asset held, the most valuable first, with the amount step of its market."""
    views = [
        BalanceView(asset, b.free, b.locked, asset_value(asset, b, prices, quote), steps.get(asset))
        for asset, b in balances.items()
        if b.total > 0
    ]
    return sorted(views, key=lambda v: (v.value is None, -(v.value or ZERO), v.asset))


def last_check_error(stored_runs) -> str | None:
    """The newest check's error, when the newest check could not read the account."""
    for run in stored_runs:
        if run.kind == "monitor":
            return None if run.ok else run.findings.error or run.message
    return None


def activity(job) -> TradeActivity:
    return TradeActivity(
        id=job.id,
        symbol=job.symbol,
        target=PositionState(job.target),
        step=job.step,
        running=job.status == jobs.RUNNING,
        ok=job.ok,
        message=job.message,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def fill_view(row) -> FillView:
    return FillView(
        row.time,
        row.symbol,
        row.side,
        row.qty,
        row.price,
        row.fee,
        row.fee_asset,
        row.client_order_id,
    )


def working_report(row) -> OrderReport:
    """A recorded working order as it was last read."""
    return OrderReport(
        client_order_id=row.client_order_id,
        exchange_order_id=row.exchange_order_id,
        symbol=row.symbol,
        side=Side(row.side),
        price=row.price,
        amount=row.amount,
        filled=row.filled,
        status=OrderStatus(row.status),
        average=row.average,
        placed_at=row.created_at,
    )


def order_view(row) -> OrderView:
    return OrderView(
        row.created_at,
        row.symbol,
        row.side,
        row.price,
        row.amount,
        row.filled,
        row.average,
        row.status,
        row.client_order_id,
        row.reason,
        row.origin,
    )


def label(state: str | None, symbol: str | None) -> str | None:
    """The state as the table reads it (SHORT on spot is "SHORT (in USDT)")."""
    if state is None or symbol is None:
        return state
    return state_label(PositionState(state), quote_asset(symbol))


def run_view(run) -> SyncRunView:
    return SyncRunView(
        run.finished_at,
        run.kind,
        run.symbol,
        run.target,
        label(run.before, run.symbol),
        label(run.after, run.symbol),
        run.ok,
        run.message,
        run.duration_ms,
        run.api_calls,
    )
