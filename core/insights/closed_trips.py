"""The closed round trips of a ledger, kept as columns: a year of fills closes hundreds of
thousands of trips, and building a RoundTrip of each (six Decimals, two datetimes) took
longer than the whole first load of the Results page may. The page reads the latest few,
a window's and the best and worst: a RoundTrip is built for those only.

The money columns hold their exact digits (core.insights.results.as_digits): the fold's
store (core.store.ledger_folds) keeps them as they are and loads them in a copy.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

import numpy as np

from core.insights.results import (
    RoundTrip,
    Summary,
    as_digits,
    datetime_of,
    datetimes_of,
    day_totals,
    decimal_of,
    decimals_of,
    ns_of,
    summaries,
)

MONEY = ("qty_bought", "qty_sold", "cost", "proceeds", "fees", "profit")
COLUMNS = ("account", "symbol", "opened_at", "closed_at", "fills", *MONEY)
_EMPTY = {
    "account": np.empty(0, object),
    "symbol": np.empty(0, object),
    "opened_at": np.empty(0, np.int64),
    "closed_at": np.empty(0, np.int64),
    "fills": np.empty(0, np.int64),
    **{name: np.empty(0, "S1") for name in MONEY},
}


class ClosedTrips(Sequence[RoundTrip]):
    """Closed round trips in the order they closed, as columns (COLUMNS: times in UTC
    nanoseconds, money as digits); a sequence of RoundTrip, each built when read."""

    __slots__ = ("columns",)

    def __init__(self, columns: Mapping[str, np.ndarray] | None = None):
        self.columns = {name: (columns or _EMPTY)[name] for name in COLUMNS}

    @classmethod
    def of(cls, closed: Mapping[str, np.ndarray]) -> ClosedTrips:
        """From the trip columns of core.insights.results (money as Decimals)."""
        return cls(
            {name: as_digits(closed[name]) if name in MONEY else closed[name] for name in COLUMNS}
        )

    @classmethod
    def joined(cls, *parts: ClosedTrips) -> ClosedTrips:
        return cls({name: np.concatenate([p.columns[name] for p in parts]) for name in COLUMNS})

    def in_close_order(self) -> ClosedTrips:
        """The trips in the order they closed (stable: equal times keep their order)."""
        order = np.argsort(self.columns["closed_at"], kind="stable")
        return ClosedTrips({name: values[order] for name, values in self.columns.items()})

    def __len__(self) -> int:
        return len(self.columns["closed_at"])

    def __getitem__(self, at):
        if isinstance(at, slice):
            return ClosedTrips({name: values[at] for name, values in self.columns.items()})
        row = range(len(self))[at]  # a negative index from the end; IndexError past it
        c = self.columns
        return RoundTrip(
            c["account"][row],
            c["symbol"][row],
            datetime_of(c["opened_at"][row]),
            datetime_of(c["closed_at"][row]),
            int(c["fills"][row]),
            *(decimal_of(c[name][row]) for name in MONEY),
        )

    def __iter__(self) -> Iterator[RoundTrip]:
        c = self.columns
        return map(  # positional, in RoundTrip's field order: one constructor call per trip
            RoundTrip,
            c["account"],
            c["symbol"],
            datetimes_of(c["opened_at"]),
            datetimes_of(c["closed_at"]),
            c["fills"].tolist(),
            *(decimals_of(c[name]) for name in MONEY),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # equal by value, as a tuple; not kept in sets

    def __repr__(self) -> str:
        return f"ClosedTrips({len(self):,} trips)"

    def since(self, moment: datetime) -> ClosedTrips:
        """The trips closed at or after `moment`: the last ones."""
        return self[self.first_closed_from(ns_of(moment)) :]

    def first_closed_from(self, ns: int, side: str = "left") -> int:
        """The number of the first trip closed at or after `ns` (UTC nanoseconds; `side`
        "right": after it)."""
        return int(np.searchsorted(self.columns["closed_at"], ns, side=side))

    def summarized(self) -> tuple[Summary, dict[str, Summary]]:
        """The figures over these trips and over each symbol's (core.insights.results.
        summarize) from their columns: only the best and worst are built as RoundTrips."""
        return summaries(day_totals(self.day_columns()), self.__getitem__)

    def day_columns(self) -> dict[str, np.ndarray]:
        """What the day totals read of the trips (core.insights.results.columns_of)."""
        c = self.columns
        return {
            "profit": decimals_of(c["profit"]),
            "closed_at": c["closed_at"],
            "symbol": c["symbol"],
        }
