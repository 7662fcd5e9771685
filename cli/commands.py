"""What each command does: read its arguments, ask the service, print, return the exit code.

Exit codes: 0 done (or in sync), 1 done but not as asked (a trade not verified,
discrepancies found), 2 bad input or a failure that kept the command from running."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from cli import render
from core.service import (
    AppError,
    InputError,
    Mode,
    Policy,
    TradeResult,
    parse_size,
    parse_symbol,
    parse_target,
)


def setting_overrides(args: argparse.Namespace) -> dict:
    """Flags that stand in for settings (serve's --host and --port)."""
    values = {"HOST": getattr(args, "host", None), "PORT": getattr(args, "port", None)}
    return {k: v for k, v in values.items() if v is not None}


def run(args: argparse.Namespace, settings, build_engine: Callable) -> int:
    handler = {"trade": trade, "diagnose": diagnose, "sync": sync}[args.command]
    return handler(args, settings, build_engine)


def trade(args: argparse.Namespace, settings, build_engine) -> int:
    """Exit 0 when the target state is verified, 1 when not, 2 on bad input."""
    if args.yes and not args.live:
        return bad_input("--yes only applies to --live (a SIM trade asks nothing)")
    mode = Mode.LIVE if args.live else Mode.SIM
    try:
        target = parse_target(args.target)
        size = _size(args)
    except InputError as exc:
        return bad_input(str(exc))
    engine = build_engine(settings)
    try:
        service = engine.service
        try:
            symbol = parse_symbol(args.symbol, service.symbols)
        except InputError as exc:
            return bad_input(str(exc))
        if mode is Mode.LIVE:
            if not service.modes.has_keys:
                return bad_input(service.modes.live_refusal() or "LIVE needs API keys")
            refusal = service.modes.live_refusal()
            if refusal:
                return finish(args, TradeResult(False, symbol, target, None, None, refusal))
            if not args.yes and not _confirmed(service.modes.confirmation()):
                return bad_input("not confirmed; nothing was sent")
        result = service.trading.trade(symbol, target, size, mode=mode)
        if result.refused:
            return bad_input(result.message)
        return finish(args, result)
    finally:
        engine.close()


def _size(args: argparse.Namespace):
    if args.size_quote is not None:
        return parse_size(args.size_quote, "quote")
    if args.size_pct is not None:
        return parse_size(args.size_pct, "pct")
    return None


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


def bad_input(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def diagnose(args: argparse.Namespace, settings, build_engine) -> int:
    """Exit 0 when in sync, 1 when discrepancies exist, 2 when an account could not be read."""
    return _monitor(args, settings, build_engine, Policy.REPORT, execute=False)


def sync(args: argparse.Namespace, settings, build_engine) -> int:
    """A dry run unless --execute; exit 0 when every account was handled, 2 on error."""
    return _monitor(args, settings, build_engine, Policy(args.policy), execute=args.execute)


def _monitor(args, settings, build_engine, policy: Policy, execute: bool) -> int:
    engine = build_engine(settings)
    try:
        progress = None if args.json or not sys.stderr.isatty() else _progress
        try:
            checks = engine.service.monitoring.run(
                policy, execute, account=args.account, progress=progress
            )
        except AppError as exc:
            return bad_input(str(exc))
    finally:
        engine.close()
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


def _progress(index: int, total: int, account: str) -> None:
    print(f"\r[{index}/{total}] checking {account}...", end="", file=sys.stderr, flush=True)
