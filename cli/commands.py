"""What each command does: read its arguments, ask the service, print, return the exit code.

Exit codes: 0 done (or in sync), 1 done but not as asked (a trade not verified,
discrepancies found), 2 bad input or a failure that kept the command from running."""

from __future__ import annotations

import argparse
import sys

from cli import order_commands, render
from cli.parser import bad_input, run_on_engine
from core.service import (
    ACCOUNT,
    DEFAULT_SIZE_TEXT,
    DEFAULT_SIZE_UNIT,
    AppError,
    InputError,
    Mode,
    Origin,
    Policy,
    PositionState,
    SizeKind,
    TradeResult,
    TradeSize,
    parse_amount,
    parse_exit_part,
    parse_size,
    parse_target,
)
from core.service.inputs import parse_whole_number


def setting_overrides(args: argparse.Namespace) -> dict:
    """Flags that stand in for settings (serve's --host and --port); a port that is not
    plain digits raises InputError."""
    port = getattr(args, "port", None)
    values = {
        "HOST": getattr(args, "host", None),
        "PORT": None if port is None else parse_whole_number(port, "--port"),
    }
    return {k: v for k, v in values.items() if v is not None}


def trade(args: argparse.Namespace, settings, build_engine) -> int:
    """Exit 0 when the target state is verified, 1 when not, 2 on bad input."""
    if args.yes and not args.live:
        return bad_input("--yes only applies to --live (a SIM trade asks nothing)")
    mode = Mode.LIVE if args.live else Mode.SIM
    try:
        target = parse_target(args.target)
        size = _size(args, target)
        part = _part(args, target)
        stops = _prices(args, "stop_loss", "take_profit")
        limit = _prices(args, "limit_price")
    except InputError as exc:
        return bad_input(str(exc))
    engine = build_engine(settings)
    try:
        service = engine.service
        try:
            symbol = service.markets.resolve(args.symbol)
        except AppError as exc:
            return bad_input(str(exc))
        if mode is Mode.LIVE:
            if not service.modes.has_keys:
                return bad_input(service.modes.live_refusal() or "LIVE needs API keys")
            refusal = service.modes.live_refusal()
            if refusal:
                return finish(args, TradeResult(False, symbol, target, None, None, refusal))
            if not args.yes and not _confirmed(
                service.modes.confirmation() + order_commands.replacing(service, symbol, mode)
            ):
                return bad_input("not confirmed; nothing was sent")
        result = service.trading.trade(
            symbol, target, size, mode=mode, origin=Origin.CLI, part=part, **stops, **limit
        )
        if result.refused:
            return bad_input(result.message)
        return finish(args, result)
    finally:
        engine.close()


def _prices(args: argparse.Namespace, *names: str) -> dict:
    """The price flags given, read like any amount (a dot for decimals)."""
    labels = {
        "stop_loss": "Stop-loss",
        "take_profit": "Take-profit",
        "stop_loss_pct": "Stop-loss %",
        "limit_price": "Limit price",
    }
    return {
        name: parse_amount(getattr(args, name), labels[name])
        for name in names
        if getattr(args, name, None) is not None
    }


SIZE_FLAGS = {
    "size_quote": SizeKind.QUOTE,
    "size_pct": SizeKind.PCT_OF_CASH,
    "qty": SizeKind.BASE_QTY,
    "risk_pct": SizeKind.RISK_PCT,
}


def _size(args: argparse.Namespace, target: PositionState) -> TradeSize | None:
    """The one size flag given (the parser refuses two), read like the page's size field;
    a LONG without one buys the ticket's first size. A size goes with LONG only, and a risk
    size with the stop it is measured to."""
    given = [(flag, kind) for flag, kind in SIZE_FLAGS.items() if getattr(args, flag) is not None]
    if target is not PositionState.LONG:
        if given:
            flag = "--" + given[0][0].replace("_", "-")
            raise InputError(f"{flag} sizes a BUY: it goes with --target LONG.")
        return None
    if not given:
        return parse_size(DEFAULT_SIZE_TEXT, DEFAULT_SIZE_UNIT)
    [(flag, kind)] = given
    if kind is SizeKind.RISK_PCT and args.stop_loss is None:
        raise InputError("--risk-pct needs --stop-loss PRICE: the risk is what is lost there.")
    return parse_size(getattr(args, flag), kind.value)


def _part(args: argparse.Namespace, target: PositionState):
    """--close-pct or --close-qty (the parser refuses both): the part of the holding a SELL
    or CLOSE sells, read like any amount; a percentage is above 0 and at most 100."""
    flag, unit, text = "--close-pct", "pct", args.close_pct
    if args.close_qty is not None:
        flag, unit, text = "--close-qty", "qty", args.close_qty
    if text is None:
        return None
    if target is PositionState.LONG:
        raise InputError(f"{flag} sells a part: it goes with --target NO_POSITION or SHORT.")
    if not text.strip():
        raise InputError(
            f"{flag} needs a value: {'a percentage' if unit == 'pct' else 'a quantity'}."
        )
    return parse_exit_part(text, unit)


def _confirmed(question: str) -> bool:
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def finish(args: argparse.Namespace, result: TradeResult) -> int:
    if args.json:
        print(render.to_json(render.trade_json(result)))
    else:
        print(result.message)
    return 0 if result.ok else 1


def diagnose(args: argparse.Namespace, settings, build_engine) -> int:
    """Exit 0 when in sync, 1 when discrepancies exist, 2 when an account could not be read."""
    return _monitor(args, settings, build_engine, Policy.REPORT, execute=False)


def sync(args: argparse.Namespace, settings, build_engine) -> int:
    """A dry run unless --execute; exit 0 when every account was handled, 2 on error."""
    return _monitor(
        args, settings, build_engine, Policy(args.policy), args.execute, protect=args.protect
    )


def _monitor(args, settings, build_engine, policy: Policy, execute: bool, protect=False) -> int:
    progress = None if args.json or not sys.stderr.isatty() else _progress

    def ask(service):
        return service.monitoring.run(
            policy, execute, account=args.account, progress=progress, protect=protect
        )

    def show(checks) -> int:
        if progress is not None:
            print(file=sys.stderr)
        failed = any(c.error for c in checks)
        if args.command == "diagnose":
            print(
                render.to_json(render.diagnose_json(checks))
                if args.json
                else render.diagnose_text(checks)
            )
            found = any(c.discrepancies for c in checks)
            return 2 if failed else 1 if found else 0
        print(
            render.to_json(render.sync_json(checks, not execute))
            if args.json
            else render.sync_text(checks, not execute)
        )
        return 2 if failed else 0

    # an account that could not be read kept the command from running: 2, as bad input
    return run_on_engine(settings, build_engine, ask, show, failed=2)


def _progress(index: int, total: int, account: str) -> None:
    print(f"\r[{index}/{total}] checking {account}...", end="", file=sys.stderr, flush=True)


def protect(args: argparse.Namespace, settings, build_engine) -> int:
    """Exit 0 when the stop is set (or cleared), 1 when the exchange refused it, 2 on bad
    input (nothing written or sent)."""
    try:
        prices = _prices(args, "stop_loss", "stop_loss_pct", "take_profit")
    except InputError as exc:
        return bad_input(str(exc))
    if not args.clear and not ({"stop_loss", "stop_loss_pct"} & set(prices)):
        return bad_input("give --stop-loss PRICE or --stop-loss-pct P (or --clear)")
    if args.clear and prices:
        return bad_input("--clear takes no prices")

    def ask(service):
        if args.clear:
            return service.protection.clear(args.symbol, **_where(args))
        return service.protection.protect(args.symbol, **_where(args), **prices)

    def show(outcome) -> int:
        print(render.to_json(render.stop_json(outcome)) if args.json else outcome.message)
        return 0 if outcome.ok else 1

    return run_on_engine(settings, build_engine, ask, show)


def flatten(args: argparse.Namespace, settings, build_engine) -> int:
    """Exit 0 when every account was flattened, 1 when one could not be, 2 on bad input.
    Real positions are never closed unasked: the LIVE book, --all and a monitored account
    (always LIVE) need a yes at the prompt or --yes."""
    real = args.live or args.all or bool(args.account and args.account != ACCOUNT)
    if args.yes and not real:
        return bad_input("--yes only applies to --live, --all or a monitored --account")
    engine = build_engine(settings)
    try:
        service = engine.service
        mode = Mode.LIVE if args.live else Mode.SIM
        names = service.account_names() if args.all else [args.account or ACCOUNT]
        unknown = [n for n in names if n not in service.account_names()]
        if unknown:
            return bad_input(f"unknown account {unknown[0]!r}")
        books = [
            f"{name} ({mode.value.upper()} on {service.exchange_label})"
            if name == ACCOUNT
            else f"{name} (LIVE, monitored)"
            for name in names
        ]
        question = (
            f"Flatten {', '.join(books)}? Every open order is cancelled, every position "
            "closed, and trading halted until resume."
        )
        if real and not args.yes and not _confirmed(question):
            return bad_input("not confirmed; nothing was sent")
        outcomes = service.kill_switch.flatten(names, mode)
    finally:
        engine.close()
    if args.json:
        print(render.to_json(render.flatten_json(outcomes)))
    else:
        print("\n".join(o.message for o in outcomes))
    return 0 if all(o.ok for o in outcomes) else 1


def resume(args: argparse.Namespace, settings, build_engine) -> int:
    account = args.account or ACCOUNT
    mode = Mode.LIVE if args.live or args.account else Mode.SIM
    if not args.yes and not _confirmed(f"Resume trading on {account} ({mode.value})?"):
        return bad_input("not confirmed; trading stays halted")
    engine = build_engine(settings)
    try:
        if account not in engine.service.account_names():
            return bad_input(f"unknown account {account!r}")
        print(engine.service.kill_switch.resume(account, mode))
    finally:
        engine.close()
    return 0


def _where(args: argparse.Namespace) -> dict:
    """The traded account's book (SIM unless --live), or a monitored account."""
    if args.account and args.account != ACCOUNT:
        return {"account": args.account}
    return {"account": ACCOUNT, "mode": Mode.LIVE if args.live else Mode.SIM}


HANDLERS = {
    "trade": trade,
    "diagnose": diagnose,
    "sync": sync,
    "protect": protect,
    "flatten": flatten,
    "resume": resume,
}
