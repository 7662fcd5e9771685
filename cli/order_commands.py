"""The orders, cancel and amend commands: every working order and stop of a book,
cancelling one order, or every order of a symbol, and moving one of the app's orders to a
new price, through the gate.

Exit codes: 0 done; 1 the exchange refused or failed (or an amend cancelled its order and
could not replace it); 2 bad input (an unknown order id, a bad price, a LIVE action not
confirmed, an amend the gate refused), in which case nothing was sent."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from cli.parser import bad_input, run_on_engine
from cli.render import to_json
from core.service import AppError, InputError, Mode, parse_amount
from core.service.working_orders import STOP_ID

WORDS_OF = {"stop_loss": "stop-loss", "take_profit": "take-profit", "limit": "limit"}


def orders(args: argparse.Namespace, settings, build_engine: Callable) -> int:
    """Exit 0 with the list (none is no error); 1 when the exchange could not be read."""

    def show(found) -> int:
        print(
            to_json({"orders": [order_json(o) for o in found]}) if args.json else orders_text(found)
        )
        return 0

    # no input of the user's is read: every error is the exchange's
    return run_on_engine(
        settings, build_engine, lambda service: service.orders.working(_mode(args)), show, bad=()
    )


def cancel(args: argparse.Namespace, settings, build_engine: Callable) -> int:
    """Exit 0 when cancelled; 2 for an unknown id or a LIVE cancel not confirmed (nothing
    sent); 1 when the exchange refused or failed."""
    if args.yes and not args.live:
        return bad_input("--yes only applies to --live (a SIM cancel asks nothing)")
    if args.order_id and args.order_id.startswith(STOP_ID):
        symbol = args.order_id[len(STOP_ID) :]
        return bad_input(f"{args.order_id} is a stop: remove it with protect {symbol} --clear")
    mode = _mode(args)
    what = f"order {args.order_id}" if args.order_id else f"every open order of {args.symbol}"
    if mode is Mode.LIVE and not args.yes and not _asked(f"Cancel {what} on the LIVE account?"):
        return bad_input(
            f"cancelling {what} on the LIVE account needs --yes (no terminal to ask) or a "
            "yes; nothing was sent"
        )

    def ask(service) -> list:
        if args.order_id:
            return [service.orders.cancel(args.order_id, mode)]
        return service.orders.cancel_symbol(args.symbol, mode)

    def show(done) -> int:
        if args.json:
            print(to_json({"cancelled": [order_json(o) for o in done]}))
        elif done:
            print("\n".join(f"cancelled {_line(o)}" for o in done))
        else:
            print(f"no open order of {args.symbol}: nothing to cancel")
        return 0

    return run_on_engine(settings, build_engine, ask, show)


def amend(args: argparse.Namespace, settings, build_engine: Callable) -> int:
    """Exit 0 when moved (or when the order filled before its cancel: nothing is left to
    move); 2 for bad input, an unknown id, a LIVE amend not confirmed or a refusal (nothing
    sent); 1 when the order was cancelled and not replaced, or the exchange failed."""
    if args.yes and not args.live:
        return bad_input("--yes only applies to --live (a SIM amend asks nothing)")
    try:
        price = parse_amount(args.price, "Price")
    except InputError as exc:
        return bad_input(str(exc))
    mode = _mode(args)
    question = f"Move order {args.order_id} to {price.normalize():f} on the LIVE account?"
    if mode is Mode.LIVE and not args.yes and not _asked(question):
        return bad_input(
            f"moving order {args.order_id} on the LIVE account needs --yes (no terminal to "
            "ask) or a yes; nothing was sent"
        )

    def show(amended) -> int:
        if amended.refused:
            return bad_input(amended.message)
        if args.json:
            print(to_json({"ok": amended.ok, "message": amended.message, **_amended_ids(amended)}))
        else:
            print(amended.message, file=sys.stdout if amended.ok else sys.stderr)
        return 0 if amended.ok else 1

    return run_on_engine(
        settings,
        build_engine,
        lambda service: service.orders.amend(args.order_id, price, mode),
        show,
    )


def _amended_ids(amended) -> dict:
    return {
        "old": amended.old.client_order_id if amended.old else None,
        "new": amended.new.client_order_id if amended.new else None,
        "filled_before_cancel": amended.old.filled if amended.old else None,
    }


def _asked(question: str) -> bool:
    """A yes typed at a terminal; no terminal is no."""
    if not sys.stdin.isatty():
        return False
    try:
        answer = input(f"{question} [y/N] ").strip().lower()
    except EOFError:
        answer = ""
    return answer in ("y", "yes")


def replacing(service, symbol: str, mode: Mode) -> str:
    """What a trade's confirmation adds when it replaces working orders: its cancel step
    ends every open order of the symbol first."""
    try:
        found = [o for o in service.orders.working(mode) if o.symbol == symbol and o.cancellable]
    except AppError:
        return ""
    if not found:
        return ""
    return " It first cancels " + "; ".join(_line(o) for o in found) + "."


def order_json(order) -> dict:
    return {
        "id": order.id,
        "symbol": order.symbol,
        "kind": order.kind,
        "side": order.side.value if order.side else None,
        "price": order.price,
        "amount": order.amount,
        "filled": order.filled,
        "placed_at": order.placed_at,
        "age_s": None if order.placed_at is None else _age_seconds(order),
        "placed_by": order.placed_by.value,
        "origin": order.origin,
    }


def orders_text(found) -> str:
    if not found:
        return "no working orders and no stops"
    return "\n".join(_line(o) for o in found)


def _line(order) -> str:
    side = order.side.value.upper() if order.side else ""
    amount = "" if order.amount is None else f" {order.amount.normalize():f}"
    filled = f", filled {order.filled.normalize():f}" if order.amount is not None else ""
    age = "" if order.placed_at is None else f", {_age(_age_seconds(order))} old"
    return (
        f"{order.id}  {order.symbol} {WORDS_OF.get(order.kind, order.kind)} {side}{amount} "
        f"@ {order.price.normalize():f}{filled}{age}, by {order.placed_by.value}"
    )


def _age_seconds(order) -> int:
    return max(0, int((datetime.now(UTC) - order.placed_at).total_seconds()))


def _age(seconds: int) -> str:
    """`45 s`, `12 min`, `3 h 05 min`."""
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _mode(args: argparse.Namespace) -> Mode:
    return Mode.LIVE if args.live else Mode.SIM


HANDLERS = {"orders": orders, "cancel": cancel, "amend": amend}
