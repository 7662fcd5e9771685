"""The orders panel's table and the Move dialog's words, built from plain values (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from core.domain import PlacedBy, Side, WorkingOrder
from core.errors import InputError
from core.store.outside_orders import OutsideRead
from web import amend_dialog
from web.orders_panel import order_rows

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def order(order_id: str, by: PlacedBy, price: str, kind: str = "limit") -> WorkingOrder:
    return WorkingOrder(
        id=order_id,
        symbol="ETH/USDT",
        side=Side.BUY,
        price=Decimal(price),
        amount=None if kind != "limit" else Decimal("0.5"),
        filled=Decimal("0.1") if kind == "limit" else Decimal(0),
        placed_at=NOW - timedelta(minutes=3),
        placed_by=by,
        kind=kind,
    )


def texts(component) -> list[str]:
    """Every string in a component tree, depth first."""
    if isinstance(component, str):
        return [component]
    children = getattr(component, "children", None)
    if children is None:
        return []
    if not isinstance(children, list | tuple):
        children = [children]
    return [text for child in children for text in texts(child)]


def rows(component) -> list[list[str]]:
    table = component.children[0]
    body = table.children[1]
    return [[" ".join(texts(cell)) for cell in row.children] for row in body.children]


def test_outside_orders_follow_the_apps_with_the_time_of_the_read():
    ours = order("td1", PlacedBy.APP, "3000")
    stop = order("stop:ETH/USDT", PlacedBy.APP_STOP, "2800", kind="stop_loss")
    read = OutsideRead(NOW - timedelta(minutes=2), (order("77", PlacedBy.OUTSIDE, "2900"),))
    table = order_rows([ours, stop], NOW, read)
    found = rows(table)
    assert [r[2] for r in found] == ["3,000.00", "2,900.00", "2,800.00"]
    assert [r[5] for r in found] == ["app", "outside", "app stop"]
    assert found[0][3] == "0.5 0.1 filled"
    assert found[0][6] == "Move Cancel" and found[1][6] == "Cancel" and found[2][6] == ""
    note = " ".join(texts(table.children[1]))
    assert "periodic check read them at 09:58:00 UTC (2 min ago)" in note
    # no read yet, or nothing outside: no note
    assert order_rows([ours], NOW, None).children[1] == ""
    assert order_rows([ours], NOW, OutsideRead(NOW, ())).children[1] == ""


def test_the_move_dialog_names_the_old_and_the_new_price():
    ours = order("td1", PlacedBy.APP, "3230")
    assert amend_dialog.move_words(ours, "3205.5").startswith(
        "Move BUY ETH/USDT from 3,230.00 to 3,205.50?"
    )
    for bad in ("", "3,205", "-1", "abc"):
        with pytest.raises(InputError):
            amend_dialog.move_words(ours, bad)
    assert amend_dialog.movable(ours)
    assert not amend_dialog.movable(order("77", PlacedBy.OUTSIDE, "2900"))
    assert not amend_dialog.movable(order("stop:ETH/USDT", PlacedBy.APP_STOP, "1", "stop_loss"))
