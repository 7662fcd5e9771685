"""Trading results from the ledger, the figures FreqUI shows: round trips, profit per day,
week and month, win rate, profit factor, expectancy, realized PnL and the equity drawdown.

Pure: DataFrames in (the store loads each with one query), frozen dataclasses out.

Spot and long only. The ledger's entries are fills (side `buy` or `sell`) and transfers:
holdings that came `in` or went `out` outside the app, found by a check (cash deposited or
withdrawn too, an entry of the asset itself, which no round trip holds). Both move the held
quantity; only fills trade. A round trip opens on the entry that lifts the held quantity of
a symbol above dust and closes on the entry that brings it back to dust or below; every entry
between belongs to it. Coins that came in join the trip at the price they were valued at (the
mark), as if bought there; coins that went out leave at the trip's average entry (valued to
1e-12 of the quote), so neither is profit or loss: an adopted holding that a stop sells pairs
with the stop's sale, and a trip still open holds exactly what the ledger (and so the account) holds. The held quantity
never goes below zero: coins sold that the records never saw bought (held from before) empty
the holding rather than leave a debt for the next buys to fill, and a trip counts a sell
only up to what it held. Entries made while flat that open no trip (such a sell, or a buy
that stays within dust) belong to no trip.

Realized PnL is the ledger's: each entry is stored with what it realized by average cost
(core.pnl), fees apart, as the Trading page counts it; a trip's profit is after its fees.

Profit is what the trip turned quote into quote: sell proceeds - buy cost - the fees paid in
any asset other than the base. A fee paid in the base asset already shows in the quantities
(a buy delivers less, a sell takes more), so subtracting its quote value again would count it
twice; `fees` still reports every fee of the trip, valued in quote.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from core.domain import ZERO, base_asset, is_market

if TYPE_CHECKING:
    from core.insights.closed_trips import ClosedTrips

ENTRY_COLUMNS = (
    "account",
    "symbol",
    "side",
    "qty",
    "price",
    "fee",
    "fee_asset",
    "fee_quote",
    "time",
    "client_order_id",
    "entry_key",
    "realized",
)
BOUGHT, SOLD, CAME_IN, WENT_OUT = "buy", "sell", "in", "out"  # an entry's side
EQUITY_COLUMNS = ("time", "equity")
OUTSIDE_COLUMNS = ("time", "value")  # a change outside the app: its signed value at the mark

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NS_PER_US = 1000
NS_PER_DAY = 86_400 * 10**9
_THURSDAY = 3  # 1970-01-01, day 0, was a Thursday: (day + 3) % 7 is 0 on Mondays


class RoundTrip(NamedTuple):
    """A closed round trip. `cost` is the quote paid for its buys, `proceeds` the quote
    received for its sells, `fees` every fee of its fills valued in quote. The averages and
    the percentage are properties, worked out only for the trips someone looks at. A
    NamedTuple: a report builds one per closed trip, tens of thousands, and a frozen
    dataclass takes four times as long to build."""

    account: str
    symbol: str
    opened_at: datetime
    closed_at: datetime
    fills: int
    qty_bought: Decimal
    qty_sold: Decimal
    cost: Decimal
    proceeds: Decimal
    fees: Decimal
    profit: Decimal

    @property
    def duration(self) -> timedelta:
        return self.closed_at - self.opened_at

    @property
    def avg_entry(self) -> Decimal | None:
        """None for a trip that kept none of what it bought (all of it went out)."""
        return self.cost / self.qty_bought if self.qty_bought else None

    @property
    def avg_exit(self) -> Decimal | None:
        return self.proceeds / self.qty_sold if self.qty_sold else None

    @property
    def profit_pct(self) -> Decimal | None:
        """Profit as a percentage of the cost (None without a cost)."""
        return self.profit * 100 / self.cost if self.cost else None


@dataclass(frozen=True)
class OpenTrip:
    """A round trip still holding coins at `now`: `qty` is held now; no profit is realized
    until it closes."""

    account: str
    symbol: str
    opened_at: datetime
    age: timedelta
    fills: int
    qty: Decimal
    qty_bought: Decimal
    cost: Decimal
    fees: Decimal

    @property
    def avg_entry(self) -> Decimal | None:
        """The average price of the trip's buys (and of what came in)."""
        return self.cost / self.qty_bought if self.qty_bought else None


@dataclass(frozen=True)
class TradeStats:
    """Closed trips: a win made profit > 0, a loss < 0 (a trip at exactly zero is neither)."""

    trips: int
    wins: int
    losses: int
    win_rate_pct: Decimal | None
    profit: Decimal
    profit_factor: Decimal | None
    expectancy: Decimal | None
    best: RoundTrip | None
    worst: RoundTrip | None


@dataclass(frozen=True)
class PeriodProfit:
    """Realized profit of the trips closed in the period that begins on `start` (UTC)."""

    start: date
    profit: Decimal
    trips: int


@dataclass(frozen=True)
class Summary:
    stats: TradeStats
    daily: tuple[PeriodProfit, ...]
    weekly: tuple[PeriodProfit, ...]
    monthly: tuple[PeriodProfit, ...]


@dataclass(frozen=True)
class Drawdown:
    """The largest fall of equity from a running peak, and the fall from the latest peak to
    the latest point. A peak's time is the last time equity stood at it before falling; with
    no fall at all the maximum is zero and its dates are None. Percentages are of the peak
    (None when the peak is not positive)."""

    max_abs: Decimal
    max_pct: Decimal | None
    peak_at: datetime | None
    peak_equity: Decimal | None
    trough_at: datetime | None
    trough_equity: Decimal | None
    current_abs: Decimal
    current_pct: Decimal | None
    current_peak_at: datetime


@dataclass(frozen=True)
class ResultsReport:
    now: datetime
    overall: Summary
    by_symbol: Mapping[str, Summary]
    closed: ClosedTrips  # in the order they closed
    open: tuple[OpenTrip, ...]
    drawdown: Drawdown | None


def drawdown(equity: pd.DataFrame) -> Drawdown | None:
    """Maximum and current drawdown of the equity snapshots; None without snapshots."""
    frame = prepared(equity, EQUITY_COLUMNS).sort_values("time", kind="stable")
    if frame.empty:
        return None
    values = frame["equity"].to_numpy(dtype=object)
    times = frame["time"].to_numpy(dtype=np.int64)
    peaks = np.maximum.accumulate(values)
    at_peak = np.where(values >= peaks, np.arange(len(values)), 0)
    peak_index = np.maximum.accumulate(at_peak)
    falls = peaks - values
    trough = int(np.argmax(falls))
    fell = falls[trough] > 0
    peak = int(peak_index[trough])
    return Drawdown(
        max_abs=falls[trough],
        max_pct=pct_of(falls[trough], peaks[trough]),
        peak_at=datetime_of(times[peak]) if fell else None,
        peak_equity=values[peak] if fell else None,
        trough_at=datetime_of(times[trough]) if fell else None,
        trough_equity=values[trough] if fell else None,
        current_abs=falls[-1],
        current_pct=pct_of(falls[-1], peaks[-1]),
        current_peak_at=datetime_of(times[peak_index[-1]]),
    )


def net_of_outside(equity: pd.DataFrame, outside: pd.DataFrame) -> pd.DataFrame:
    """The equity curve (EQUITY_COLUMNS, what the account was worth: cash and holdings at
    their marks) with two more columns: `outside`, the net value of the holdings that came
    in (+) or went out (-) outside the app after the curve's first point and up to each
    point (`outside`: OUTSIDE_COLUMNS, the ledger's transfers valued at their marks), and
    `traded`, the equity less that: what trading alone made of the account. A withdrawal
    lowers the equity but not `traded`, so it is never a drawdown nor a loss."""
    frame = prepared(equity, EQUITY_COLUMNS).sort_values("time", kind="stable")
    frame = frame.reset_index(drop=True)
    times = frame["time"].to_numpy(dtype=np.int64)
    frame["outside"] = outside_moves(outside, times[0] if len(times) else 0).by(times)
    frame["traded"] = frame["equity"].to_numpy(dtype=object) - frame["outside"].to_numpy(
        dtype=object
    )
    frame["time"] = pd.to_datetime(times, unit="ns", utc=True)
    return frame


class OutsideMoves(NamedTuple):
    """The changes outside the app after a curve's first point (UTC nanoseconds, in order)
    and their running sum, a zero before the first (`running` is one longer than `at`)."""

    at: np.ndarray
    running: np.ndarray

    def by(self, times: np.ndarray) -> np.ndarray:
        """The net value of the changes up to each of `times` (nanoseconds)."""
        return self.running[np.searchsorted(self.at, times, side="right")]

    def counted(self, last: int) -> int:
        """How many of the changes came up to `last` (nanoseconds)."""
        return int(np.searchsorted(self.at, last, side="right"))


def outside_moves(outside: pd.DataFrame, first: int) -> OutsideMoves:
    """The changes outside the app (OUTSIDE_COLUMNS) after `first` (UTC nanoseconds): those
    at or before a curve's first point are in it already."""
    moves = prepared(outside, OUTSIDE_COLUMNS).sort_values("time", kind="stable")
    moved_at = moves["time"].to_numpy(dtype=np.int64)
    after_first = moved_at > first
    values = moves["value"].to_numpy(dtype=object)[after_first]
    return OutsideMoves(moved_at[after_first], np.r_[np.array([ZERO], object), np.cumsum(values)])


def outside_since(outside: pd.DataFrame, since: datetime | None) -> Decimal:
    """The net value of the changes outside the app (OUTSIDE_COLUMNS) from `since` on (all:
    None): what the ledger's transfers of the window brought in (+) or took out (-)."""
    if since is not None and len(outside):
        outside = outside[pd.to_datetime(outside["time"], utc=True) >= since]
    return sum(outside["value"], ZERO) if len(outside) else ZERO


def traded_curve(curve: pd.DataFrame) -> pd.DataFrame:
    """The `traded` column of a `net_of_outside` curve as an equity curve (EQUITY_COLUMNS),
    the one its drawdown is measured on."""
    return pd.DataFrame({"time": curve["time"], "equity": curve["traded"]})


# --- realized PnL -----------------------------------------------------------------------


class Booked(NamedTuple):
    """The ledger's realized PnL and fees (in quote) summed as they run in time order, so
    that a window's sums are a difference of two: the page asks each tick for a window whose
    start moves, and summing a million entries each time was most of the tick. The sums are
    kept as their exact digits (`as_digits`): stored and loaded as they are, where building
    two million Decimals took longer than the whole first load may."""

    times: np.ndarray  # UTC nanoseconds, in order
    realized: np.ndarray  # before each entry, and after the last
    fees: np.ndarray

    def after(self, first: int) -> tuple[Decimal, Decimal]:
        """The realized PnL and fees of the entries from the `first` on."""
        realized, fees = (
            decimal_of(sums[-1]) - decimal_of(sums[first]) for sums in (self.realized, self.fees)
        )
        return realized, fees


def as_digits(values: Collection[Decimal]) -> np.ndarray:
    """Decimals as their exact digits, ASCII (str() of a Decimal gives back the same one)."""
    return np.array(list(map(str, values)), dtype="S") if len(values) else np.empty(0, "S1")


def decimal_of(digits: bytes) -> Decimal:
    return Decimal(digits.decode())


def decimals_of(digits: np.ndarray) -> np.ndarray:
    return np.array(list(map(Decimal, digits.astype("U").tolist())), dtype=object)


NO_BOOKINGS = Booked(np.empty(0, dtype=np.int64), as_digits([ZERO]), as_digits([ZERO]))


def booked(entries: pd.DataFrame, start: Booked = NO_BOOKINGS) -> Booked:
    """The running sums of the ledger's entries (ENTRY_COLUMNS) booked after `start`'s:
    only the sums from the first new entry's time on are worked out (none of the kept ones,
    when the new entries are the latest)."""
    frame = prepared(entries, ENTRY_COLUMNS)
    if frame.empty:
        return start
    new_times = frame["time"].to_numpy(np.int64)
    at = int(np.searchsorted(start.times, new_times.min(), side="right"))
    times = np.concatenate([start.times[at:], new_times])
    order = np.argsort(times, kind="stable")  # the kept first among equal times

    def running(kept: np.ndarray, name: str) -> np.ndarray:
        moved = decimals_of(kept[at:])  # the sums from the first entry that moves on
        values = np.concatenate([np.diff(moved), frame[name].to_numpy(object)])[order]
        return np.concatenate([kept[: at + 1], as_digits(moved[0] + np.cumsum(values))])

    return Booked(
        np.concatenate([start.times[:at], times[order]]),
        running(start.realized, "realized"),
        running(start.fees, "fee_quote"),
    )


def realized_since(
    entries: pd.DataFrame | Booked, since: datetime | None
) -> tuple[Decimal, Decimal]:
    """The realized PnL and the fees (in quote) of the ledger's entries (or their `booked`
    sums) from `since` on (all: None). Each entry was written with what it realized by
    average cost (core.pnl, the rule every position row follows), so over all time these are
    the Trading page's cards."""
    sums = entries if isinstance(entries, Booked) else booked(entries)
    first = 0 if since is None else int(np.searchsorted(sums.times, ns_of(since), side="left"))
    return sums.after(first)


# --- inputs -----------------------------------------------------------------------------


def prepared(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """The frame with every expected column (an empty frame may come without them) and its
    `time` as UTC nanoseconds."""
    frame = frame.reindex(columns=list(columns))
    frame["time"] = pd.to_datetime(frame["time"], utc=True).dt.as_unit("ns").array.asi8
    return frame


def held_entries(entries: pd.DataFrame) -> pd.DataFrame:
    """The entries of holdings of markets: cash deposited or withdrawn (an entry of the
    asset itself, `USDT`) is a change outside the app, in no round trip."""
    cash = [name for name in entries["symbol"].unique() if not is_market(str(name))]
    return entries[~entries["symbol"].isin(cash)] if cash else entries


def datetime_of(ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(ns) // _NS_PER_US)


def ns_of(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1) * _NS_PER_US


def datetimes_of(ns: np.ndarray) -> np.ndarray:
    """UTC datetimes of nanosecond stamps (to the microsecond a datetime holds), at once."""
    return pd.to_datetime(ns // _NS_PER_US, unit="us", utc=True).to_pydatetime()


def pct_of(part: Decimal, whole: Decimal) -> Decimal | None:
    return part * 100 / whole if whole > 0 else None


# --- round trips ------------------------------------------------------------------------


# The round trips as columns, one array per name, row i of each being trip i.
_Trips = dict[str, np.ndarray]
TRIP_DTYPES = {
    "account": object,
    "symbol": object,
    "opened_at": np.int64,
    "closed_at": np.int64,
    "fills": np.int64,
    "held": object,
    "closed": bool,
    "closed_by": np.int64,  # the row of its last entry among the entries given
    "qty_in": object,  # bought and come in, before anything went out: the average entry's
    "cost_in": object,
    "qty_bought": object,
    "qty_sold": object,
    "cost": object,
    "proceeds": object,
    "fees": object,
    "other_fees": object,
}
# What went out is valued to a millionth of a millionth of the quote: the average entry is a
# quotient, and the sums of quotients kept to 28 digits would differ in their last digits
# with the order they are added in (a fold adds a trip's entries in parts).
_OUT_VALUE_PLACES = Decimal("1e-12")
_SUMS = ("qty_in", "cost_in", "qty_bought", "qty_sold", "cost", "proceeds", "fees", "other_fees")
Pair = tuple[str, str]  # (account, symbol)


class Tail(NamedTuple):
    """Where a pair's entries left off: the time of its last entry (UTC nanoseconds), what
    was held after it, whether that was above dust, and the pair's trip open then (one row
    of the trip columns, as values) or None. The next entries of the pair start from it."""

    time: int
    held: Decimal
    above: bool
    open: Mapping[str, object] | None


NO_TAIL = Tail(0, ZERO, False, None)


def no_trips() -> _Trips:
    return {name: np.empty(0, dtype) for name, dtype in TRIP_DTYPES.items()}


def trips_of(
    entries: pd.DataFrame, dust: Mapping[str, Decimal], tails: Mapping[Pair, Tail]
) -> tuple[_Trips, dict[Pair, Tail]]:
    """The round trips of the entries (prepared: `time` in nanoseconds; the ledger's fills
    and transfers of markets), closed or open, as columns: when each opened and closed, its
    number of entries, the quantity still held after its last entry and the sums of its
    entries. Each pair's entries take up where its tail in `tails` left off: a trip open
    there goes on, with its sums, its opening and its count of entries. Also each pair's
    tail after these entries."""
    if entries.empty:
        return no_trips(), {}
    accounts, _ = pd.factorize(entries["account"])
    symbols, symbol_names = pd.factorize(entries["symbol"])
    pair = accounts.astype(np.int64) * len(symbol_names) + symbols
    times = entries["time"].to_numpy(dtype=np.int64)
    order = np.lexsort((times, pair))

    @cache
    def objects(name: str) -> np.ndarray:
        return entries[name].to_numpy(dtype=object)

    def column(name: str, at: np.ndarray | None = None) -> np.ndarray:
        """The column in (pair, time) order, or only its rows `at` of that order."""
        return objects(name)[order if at is None else order[at]]

    bases = np.array([base_asset(name) for name in symbol_names], dtype=object)
    base_paid = (entries["fee_asset"].to_numpy(dtype=object) == bases[symbols])[order]
    side = column("side")
    adds = (side == BOUGHT) | (side == CAME_IN)
    qty = column("qty")
    pair, symbols, times = pair[order], symbols[order], times[order]
    limit = np.array([dust.get(name, ZERO) for name in symbol_names], dtype=object)[symbols]
    same_pair = np.r_[False, pair[1:] == pair[:-1]]  # as the entry before
    starts = np.flatnonzero(~same_pair)  # each pair's first entry
    keys = list(zip(column("account", starts), column("symbol", starts), strict=True))
    before = [tails.get(key, NO_TAIL) for key in keys]
    held_first = np.array([tail.held for tail in before], dtype=object)
    above_first = np.array([tail.above for tail in before], dtype=bool)
    moved = _base_moved(qty, adds, column("fee", np.flatnonzero(base_paid)), base_paid)
    moved[starts] = moved[starts] + held_first
    held, oversold = _held_after(moved, pair)
    held_before = _previous(held, same_pair, ZERO)
    held_before[starts] = held_first
    qty[oversold] = np.minimum(qty[oversold], held_before[oversold])  # a trip sells its own
    above = held > limit
    was_above = _previous(above, same_pair, False)
    was_above[starts] = above_first
    goes_on = np.zeros(len(pair), dtype=bool)  # takes up the trip its tail left open
    goes_on[starts[above_first]] = True
    rows = np.flatnonzero(above | was_above)
    trip = np.cumsum((above & ~was_above) | goes_on)[rows] - 1
    firsts = rows[np.flatnonzero(np.diff(trip, prepend=-1))]
    lasts = rows[np.flatnonzero(np.diff(trip, append=-1))]
    carried = _carried(firsts, goes_on, starts, before)
    trips = {
        "account": column("account", firsts),
        "symbol": column("symbol", firsts),
        "opened_at": np.where(goes_on[firsts], carried["opened_at"], times[firsts]),
        "closed_at": times[lasts],
        "fills": lasts - firsts + 1 + carried["fills"],
        "held": held[lasts],
        "closed": ~above[lasts],
        "closed_by": order[lasts],
        **_trip_sums(
            trip,
            qty[rows],
            column("price", rows),
            column("fee_quote", rows),
            side[rows],
            base_paid[rows],
            carried,
        ),
    }
    ends = np.r_[starts[1:], len(pair)] - 1  # each pair's last entry
    # the trip of each pair's last entry, where it is in one (a pair's last entry above dust)
    open_trips = trip[np.minimum(np.searchsorted(rows, ends), len(rows) - 1)] if len(rows) else ends
    after = {
        key: Tail(
            int(times[end]),
            held[end],
            bool(above[end]),
            {name: values[index] for name, values in trips.items()} if above[end] else None,
        )
        for key, end, index in zip(keys, ends, open_trips, strict=True)
    }
    return trips, after


def _carried(
    firsts: np.ndarray, goes_on: np.ndarray, starts: np.ndarray, before: list[Tail]
) -> _Trips:
    """Per trip (`firsts`: its first entry), what the open trip it goes on with had summed,
    when it opened and its entries; zeros for a trip that opens among these entries."""
    carried = {name: np.full(len(firsts), ZERO, dtype=object) for name in _SUMS}
    carried["opened_at"] = np.zeros(len(firsts), dtype=np.int64)
    carried["fills"] = np.zeros(len(firsts), dtype=np.int64)
    for index in np.flatnonzero(goes_on[firsts]):
        tail = before[int(np.searchsorted(starts, firsts[index]))]
        for name, values in carried.items():
            values[index] = tail.open[name]
    return carried


def _trip_sums(
    trip: np.ndarray,
    qty: np.ndarray,
    price: np.ndarray,
    fee_quote: np.ndarray,
    side: np.ndarray,
    base_paid: np.ndarray,
    carried: _Trips,
) -> _Trips:
    """Per trip, the sums of its entries (`trip` numbers each entry's trip from 0, in order)
    added to what it `carried` from before. What came in counts as bought at its price;
    what went out is taken off what was bought at the trip's average entry until then."""
    count = len(carried["cost"])
    bought, sold, left = (side == BOUGHT) | (side == CAME_IN), side == SOLD, side == WENT_OUT
    if (side == CAME_IN).any():  # a holding adopted without a mark entered at no cost
        price = np.where(pd.isna(price), ZERO, price)
    notional = qty * np.where(left, ZERO, price)
    if left.any():  # what went out, at the average entry before it
        out_at = qty[left] * _entry_before(trip, qty, notional, bought, left, carried)
        notional[left] = [value.quantize(_OUT_VALUE_PLACES) for value in out_at]

    def total(name: str, values: np.ndarray, where: np.ndarray) -> np.ndarray:
        return carried[name] + _sums_by_trip(values[where], trip[where], count)

    def net(name: str, values: np.ndarray) -> np.ndarray:
        """What came in less what went out, on top of what was carried."""
        return total(name, values, bought) - _sums_by_trip(values[left], trip[left], count)

    return {
        "qty_in": total("qty_in", qty, bought),
        "cost_in": total("cost_in", notional, bought),
        "qty_bought": net("qty_bought", qty),
        "qty_sold": total("qty_sold", qty, sold),
        "cost": net("cost", notional),
        "proceeds": total("proceeds", notional, sold),
        "fees": carried["fees"] + _sums_by_trip(fee_quote, trip, count),
        "other_fees": total("other_fees", fee_quote, ~base_paid),
    }


def _entry_before(
    trip: np.ndarray,
    qty: np.ndarray,
    notional: np.ndarray,
    bought: np.ndarray,
    at: np.ndarray,
    carried: _Trips,
) -> np.ndarray:
    """The trip's average entry (quote paid per coin bought or come in, what it `carried`
    included) just before each of the entries `at`. Taking coins out at that average leaves
    it as it was, so the average of everything that came in so far is the trip's average."""
    qty_in, cost_in = np.where(bought, qty, ZERO), np.where(bought, notional, ZERO)
    running_qty, running_cost = np.cumsum(qty_in), np.cumsum(cost_in)
    first = np.flatnonzero(np.diff(trip, prepend=-1))[trip]  # each entry's trip's first entry
    quantity = (running_qty - running_qty[first] + qty_in[first])[at] + carried["qty_in"][trip[at]]
    cost = (running_cost - running_cost[first] + cost_in[first])[at] + carried["cost_in"][trip[at]]
    return np.array(
        [c / q if q > 0 else ZERO for c, q in zip(cost, quantity, strict=True)], dtype=object
    )


def rows_of(trips: _Trips, rows: np.ndarray) -> _Trips:
    return {name: values[rows] for name, values in trips.items()}


def _previous(values: np.ndarray, same_pair: np.ndarray, first: object) -> np.ndarray:
    """Each fill's value of the fill before it in its pair; `first` for a pair's first fill."""
    shifted = np.empty_like(values)
    shifted[1:] = values[:-1]
    shifted[~same_pair] = first
    return shifted


def _base_moved(
    qty: np.ndarray, adds: np.ndarray, base_fees: np.ndarray, base_paid: np.ndarray
) -> np.ndarray:
    """How much each entry changed the base holding: a buy or a transfer in (`adds`) adds its
    quantity, a sell or a transfer out takes it, and a fee paid in base (`base_fees`, one per
    `base_paid` row) takes a little more."""
    moved = qty.copy()
    moved[~adds] = -qty[~adds]
    moved[base_paid] = moved[base_paid] - base_fees
    return moved


def _held_after(moved: np.ndarray, pair: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The held quantity after each fill, per pair (rows of a pair are contiguous), floored at
    zero: the running sum less the deepest it has gone below zero so far. And which sells were
    `oversold`: took more than was held, the rest being coins from before the records."""
    held = np.empty_like(moved)
    oversold = np.zeros(len(moved), dtype=bool)
    edges = np.flatnonzero(pair[1:] != pair[:-1]) + 1
    for low, high in zip(np.r_[0, edges], np.r_[edges, len(pair)], strict=True):
        running = np.cumsum(moved[low:high])
        floor = np.minimum.accumulate(running)
        if floor[-1] >= 0:  # the usual case: never below zero, nothing to take off
            held[low:high] = running
            continue
        floor = np.minimum(floor, ZERO)
        held[low:high] = running - floor
        oversold[low:high] = floor < np.r_[ZERO, floor[:-1]]
    return held, oversold


def _sums_by_trip(values: np.ndarray, trips: np.ndarray, count: int) -> np.ndarray:
    """Per trip, the sum of the values (in trip order); zero for a trip with none."""
    sums = np.full(count, ZERO, dtype=object)
    if len(values):
        firsts = np.flatnonzero(np.diff(trips, prepend=-1))
        sums[trips[firsts]] = np.add.reduceat(values, firsts)
    return sums


def closed_columns(trips: _Trips) -> _Trips:
    """The closed trips in the order they closed (of two at the same time, the one whose last
    entry was recorded first), with their profit."""
    rows = np.flatnonzero(trips["closed"])
    closed = rows_of(trips, rows[np.lexsort((trips["closed_by"][rows], trips["closed_at"][rows]))])
    closed["profit"] = closed["proceeds"] - closed["cost"] - closed["other_fees"]
    return closed


def open_trips(tails: Mapping[Pair, Tail], now: datetime) -> tuple[OpenTrip, ...]:
    """The trips the tails left open (still holding coins), oldest first."""
    opened = sorted((tail.open for tail in tails.values() if tail.open), key=_opened_at)
    moments = datetimes_of(np.array([trip["opened_at"] for trip in opened], dtype=np.int64))
    return tuple(
        OpenTrip(
            account=trip["account"],
            symbol=trip["symbol"],
            opened_at=moment,
            age=now - moment,
            fills=int(trip["fills"]),
            qty=trip["held"],
            qty_bought=trip["qty_bought"],
            cost=trip["cost"],
            fees=trip["fees"],
        )
        for trip, moment in zip(opened, moments, strict=True)
    )


def _opened_at(trip: Mapping[str, object]) -> object:
    return trip["opened_at"]


# --- summaries --------------------------------------------------------------------------


# The closed trips' figures per symbol and UTC day, in (symbol, day) order: what every
# summary adds up, so that a fold keeps these and never works them out of every trip again.
_Days = dict[str, np.ndarray]
_DAY_SUMS = ("trips", "wins", "losses", "profit", "won", "lost")
DAY_DECIMALS = ("profit", "won", "lost", "best", "worst")  # the rest count or number trips
_NO_TRIP = np.iinfo(np.int64).max


def day_totals(closed: _Trips, first: int = 0) -> _Days:
    """Per symbol and day, of the closed trips (`closed`: their columns in the order they
    closed, numbered from `first`): their count, wins, losses, profit, gross won and lost,
    and the best and worst profit with the number of the first trip that made it."""
    profit = closed["profit"]
    won, lost = profit > 0, profit < 0
    numbers = np.arange(first, first + len(profit), dtype=np.int64)
    return _combined(
        {
            "symbol": closed["symbol"],
            "day": closed["closed_at"] // NS_PER_DAY,
            "trips": np.ones(len(profit), dtype=np.int64),
            "wins": won.astype(np.int64),
            "losses": lost.astype(np.int64),
            "profit": profit,
            "won": np.where(won, profit, ZERO),
            "lost": np.where(lost, profit, ZERO),
            "best": profit,
            "best_at": numbers,
            "worst": profit,
            "worst_at": numbers,
        }
    )


def merged_days(kept: _Days, new: _Days) -> _Days:
    """The day totals of two sets of trips, the trips of `new` numbered after `kept`'s."""
    return _combined({name: np.concatenate([kept[name], new[name]]) for name in kept})


def _combined(rows: _Days) -> _Days:
    """The rows of each symbol and day added into one, in (symbol, day) order."""
    if not len(rows["day"]):
        return rows
    symbols, _ = pd.factorize(rows["symbol"], sort=True)
    rows = rows_of(rows, np.lexsort((rows["day"], symbols)))
    symbols, days = rows["symbol"], rows["day"]
    starts = np.r_[True, (symbols[1:] != symbols[:-1]) | (days[1:] != days[:-1])]
    firsts = np.flatnonzero(starts)
    group = np.cumsum(starts) - 1
    combined = {"symbol": symbols[firsts], "day": days[firsts]}
    combined.update((name, np.add.reduceat(rows[name], firsts)) for name in _DAY_SUMS)
    for extreme, pick in (("best", np.maximum), ("worst", np.minimum)):
        combined[extreme] = pick.reduceat(rows[extreme], firsts)
        number = np.where(
            rows[extreme] == combined[extreme][group], rows[f"{extreme}_at"], _NO_TRIP
        )
        combined[f"{extreme}_at"] = np.minimum.reduceat(number, firsts)
    return combined


def summaries(
    days: _Days, trip_at: Callable[[int], RoundTrip], symbols: Collection[str] | None = None
) -> tuple[Summary, dict[str, Summary]]:
    """The figures over every trip of the day totals, and over each symbol's (of `symbols`
    only, when given); `trip_at(n)` is trip number n."""
    by_symbol = pd.Series(days["symbol"], dtype=object).groupby(days["symbol"]).indices
    return _summary(days, np.arange(len(days["day"])), trip_at), {
        symbol: _summary(days, rows, trip_at)
        for symbol, rows in sorted(by_symbol.items())
        if symbols is None or symbol in symbols
    }


def summarize(trips: Sequence[RoundTrip]) -> tuple[Summary, dict[str, Summary]]:
    """The figures over these closed trips (in the order they closed) and over each
    symbol's: what a report gives over every trip, for the trips of a window."""
    trips = tuple(trips)
    return summaries(day_totals(columns_of(trips)), trips.__getitem__)


def columns_of(trips: Sequence[RoundTrip]) -> _Trips:
    """What the day totals read of closed trips, as columns."""
    return {
        "profit": np.array([trip.profit for trip in trips], dtype=object),
        "closed_at": np.array([ns_of(trip.closed_at) for trip in trips], dtype=np.int64),
        "symbol": np.array([trip.symbol for trip in trips], dtype=object),
    }


def trade_stats(trips: Sequence[RoundTrip]) -> TradeStats:
    """Win rate, profit factor (gross wins / gross losses, None without a loss), expectancy
    (mean profit per trip) and the best and worst trip (the first of equals)."""
    return summarize(trips)[0].stats


def _summary(days: _Days, rows: np.ndarray, trip_at: Callable[[int], RoundTrip]) -> Summary:
    """The figures over the day totals' `rows`."""
    rows = rows[np.argsort(days["day"][rows], kind="stable")]
    day, profit, trips = days["day"][rows], days["profit"][rows], days["trips"][rows]
    periods = (day, day - (day + _THURSDAY) % 7, _month_starts(day))
    by_period = (_profit_by_period(starts, profit, trips) for starts in periods)
    return Summary(_stats(rows_of(days, rows), trip_at), *by_period)


def _stats(days: _Days, trip_at: Callable[[int], RoundTrip]) -> TradeStats:
    count, wins, losses = (int(days[name].sum()) for name in ("trips", "wins", "losses"))
    won, lost = np.sum(days["won"], initial=ZERO), np.sum(days["lost"], initial=ZERO)

    def first_of(extreme: str, value: Decimal) -> RoundTrip:
        return trip_at(int(np.min(days[f"{extreme}_at"][days[extreme] == value])))

    return TradeStats(
        trips=count,
        wins=wins,
        losses=losses,
        win_rate_pct=Decimal(wins) * 100 / count if count else None,
        profit=won + lost,
        profit_factor=won / -lost if losses else None,
        expectancy=(won + lost) / count if count else None,
        best=first_of("best", np.max(days["best"])) if count else None,
        worst=first_of("worst", np.min(days["worst"])) if count else None,
    )


def _month_starts(days: np.ndarray) -> np.ndarray:
    """The first day of each day's month, as days since 1970-01-01."""
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    return months.astype("datetime64[D]").astype(np.int64)


def _profit_by_period(
    starts: np.ndarray, profits: np.ndarray, trips: np.ndarray
) -> tuple[PeriodProfit, ...]:
    """Profit and trip count per period start (days since 1970-01-01) of day totals in day
    order, so that each period's are together."""
    firsts = np.flatnonzero(np.diff(starts, prepend=starts[:1] - 1))
    if not len(firsts):
        return ()
    sums = np.add.reduceat(profits, firsts)
    counts = np.add.reduceat(trips, firsts).tolist()
    days = starts[firsts].astype("datetime64[D]").astype(object)  # datetime.date
    return tuple(map(PeriodProfit, days, sums, counts))
