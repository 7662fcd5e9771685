"""A figure is rebuilt only when its data changed (web.figure_memo): the same data gives
the figure already built, other data a new one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from web import figures

START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def curve(*values: str) -> list[tuple[datetime, Decimal]]:
    return [(START + timedelta(minutes=n), Decimal(v)) for n, v in enumerate(values)]


def test_the_same_data_reuses_the_figure_and_new_data_builds_one():
    first = figures.equity_figure(curve("100", "101"), "USDT")
    assert figures.equity_figure(curve("100", "101"), "USDT") is first  # equal, not the same list
    moved = figures.equity_figure(curve("100", "101", "99.5"), "USDT")
    assert moved is not first
    assert list(moved.data[0].y) == [100.0, 101.0, 99.5]
    assert list(first.data[0].y) == [100.0, 101.0]  # the kept figure is left as it was
    assert figures.equity_figure(curve("100", "101"), "EUR") is not first
