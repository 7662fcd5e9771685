"""The command line's arguments: every command, its flags and their help, the module that
runs each, and what the commands share (asking the service on an engine of their own, a bad
input's exit). Nothing here loads more than argparse and the value types, so `--help` and
a mistyped flag answer at once, and each command imports only its own module."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

from core.service import EXPORT_TABLES, AppError, InputError, Mode

# the module whose HANDLERS run each command (serve, worker and emulator are app.py's own)
COMMAND_MODULES = {
    **dict.fromkeys(("trade", "diagnose", "sync", "protect", "flatten", "resume"), "cli.commands"),
    **dict.fromkeys(("health", "results", "export"), "cli.insights_commands"),
    "alert-test": "cli.alert_commands",
    **dict.fromkeys(("events", "ack"), "cli.event_commands"),
    **dict.fromkeys(("orders", "cancel", "amend"), "cli.order_commands"),
}
SINCE_HELP = "an ISO time such as 2026-12-02T17:00:00Z (UTC unless a zone is given), or 1h, 24h, 7d"
WINDOW_HELP = "a duration such as 1h, 24h, 7d, 30m or 2w, or all"


def handler(command: str) -> Callable:
    """The function that runs a one-shot command: its module is imported now, and only its."""
    return importlib.import_module(COMMAND_MODULES[command]).HANDLERS[command]


def run(args: argparse.Namespace, settings, build_engine: Callable) -> int:
    """Run a one-shot command."""
    return handler(args.command)(args, settings, build_engine)


def run_on_engine(
    settings,
    build_engine: Callable,
    ask: Callable,
    show: Callable[..., int],
    failed: int = 1,
    bad: type[AppError] | tuple[type[AppError], ...] = InputError,
) -> int:
    """A command's one question to the service, `ask(service)`, on an engine built for it
    and closed after whatever happens; then `show(answer)` prints the answer and gives the
    exit code. A `bad` error (bad input: nothing was sent) is exit 2 and any other AppError
    (the exchange refused or failed) is `failed`, with the error on stderr and nothing
    shown."""
    engine = build_engine(settings)
    try:
        try:
            answer = ask(engine.service)
        except bad as exc:
            return bad_input(str(exc))
        except AppError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return failed
    finally:
        engine.close()
    return show(answer)


def bad_input(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="app.py", description="Trading dashboard with LIVE+SYNC for MEXC spot."
    )
    commands = root.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the dashboard (the default command)")
    serve.add_argument("--host", help="address to bind (default HOST, 127.0.0.1)")
    serve.add_argument("--port", help="port to listen on (default PORT, 8050)")

    trade = commands.add_parser(
        "trade", help="sync one symbol to a target state (SIM unless --live)"
    )
    trade.add_argument("symbol", help="unified symbol, e.g. ETH/USDT (any case)")
    trade.add_argument("--target", required=True, help="LONG, SHORT or NO_POSITION")
    sizes = trade.add_mutually_exclusive_group()
    sizes.add_argument(
        "--size-quote", metavar="AMOUNT", help="buy for this amount of the quote asset"
    )
    sizes.add_argument(
        "--size-pct", metavar="P", help="buy for P%% of the free quote balance (default 10)"
    )
    sizes.add_argument("--qty", metavar="Q", help="buy Q of the base asset")
    sizes.add_argument(
        "--risk-pct",
        metavar="R",
        help="buy what loses R%% of equity if the --stop-loss fills (needs --stop-loss)",
    )
    part = trade.add_mutually_exclusive_group()
    part.add_argument(
        "--close-pct", metavar="P", help="with SHORT or NO_POSITION: sell P%% of the holding"
    )
    part.add_argument("--close-qty", metavar="Q", help="with SHORT or NO_POSITION: sell Q of it")
    trade.add_argument(
        "--limit-price",
        metavar="P",
        help="rest the order at this price as a working order instead of taking the market",
    )
    trade.add_argument("--stop-loss", metavar="PRICE", help="protect the LONG with a stop-loss")
    trade.add_argument("--take-profit", metavar="PRICE", help="and a take-profit")
    trade.add_argument("--live", action="store_true", help="trade the real account")
    trade.add_argument("--yes", action="store_true", help="with --live: do not ask before trading")
    trade.add_argument("--json", action="store_true", help="print one JSON object")

    for name, help_text in (
        ("diagnose", "compare database positions with the exchanges"),
        ("sync", "repair the database from the exchanges (dry run unless --execute)"),
    ):
        monitor = commands.add_parser(name, help=help_text)
        monitor.add_argument("--account", help="only this account (default: all)")
        monitor.add_argument("--json", action="store_true", help="print one JSON object")
        if name == "sync":
            monitor.add_argument("--execute", action="store_true", help="apply the plan")
            monitor.add_argument("--policy", choices=["adopt", "report"], default="adopt")
            monitor.add_argument(
                "--protect",
                action="store_true",
                help="with --execute and REQUIRE_STOP_LOSS_PCT: place missing stops, remove orphans",
            )

    protect = commands.add_parser("protect", help="set or clear a position's stop")
    protect.add_argument("symbol", help="unified symbol, e.g. ETH/USDT or BTC/USDT:USDT")
    protect.add_argument("--account", help="a monitored account (default: the traded one)")
    stop = protect.add_mutually_exclusive_group()
    stop.add_argument("--stop-loss", metavar="PRICE", help="stop-loss price")
    stop.add_argument("--stop-loss-pct", metavar="P", help="stop-loss P%% from the entry")
    stop.add_argument("--clear", action="store_true", help="remove the symbol's stop")
    protect.add_argument("--take-profit", metavar="PRICE", help="take-profit price")
    protect.add_argument("--live", action="store_true", help="the traded account's LIVE book")
    protect.add_argument("--json", action="store_true", help="print one JSON object")

    flatten = commands.add_parser(
        "flatten", help="kill switch: cancel all orders, close all positions, halt trading"
    )
    which = flatten.add_mutually_exclusive_group()
    which.add_argument("--account", help="this account (default: the traded one)")
    which.add_argument("--all", action="store_true", help="every account")
    flatten.add_argument("--live", action="store_true", help="the traded account's LIVE book")
    flatten.add_argument(
        "--yes", action="store_true", help="with --live, --all or --account: do not ask first"
    )
    flatten.add_argument("--json", action="store_true", help="print one JSON object")

    resume = commands.add_parser("resume", help="allow trading again after a flatten")
    resume.add_argument("--account", help="this account (default: the traded one)")
    resume.add_argument("--live", action="store_true", help="the traded account's LIVE book")
    resume.add_argument("--yes", action="store_true", help="confirm")

    _insights(commands)
    _events(commands)
    _orders(commands)

    commands.add_parser("worker", help="the periodic check and stop watcher, without the page")

    # its flags are the emulator's own (app.py hands them over: `app.py emulator --help`)
    commands.add_parser(
        "emulator", help="run the local MEXC-compatible exchange (emulator --help: its flags)"
    )
    return root


def _insights(commands: argparse._SubParsersAction) -> None:
    """health, results, export and alert-test."""
    health = commands.add_parser(
        "health", help="sync health: success rate, drift and its repair, durations, calls"
    )
    _report_arguments(health, default_window="24h")
    results = commands.add_parser(
        "results", help="trading results: round trips, profit per period, drawdown"
    )
    _report_arguments(results, default_window="all")

    export = commands.add_parser("export", help="write fills, orders, sync runs or alerts as CSV")
    export.add_argument("table", choices=EXPORT_TABLES, help="which records")
    export.add_argument(
        "--csv", required=True, metavar="FILE", help="the file to write (- for standard output)"
    )
    export.add_argument(
        "--since", default="all", metavar="WINDOW", help=f"only the last WINDOW: {WINDOW_HELP}"
    )
    export.add_argument("--account", help="only this account (default: every account)")
    _mode_argument(export)

    alert_test = commands.add_parser(
        "alert-test", help="send a test message to every ALERT_URLS address"
    )
    alert_test.add_argument("--json", action="store_true", help="print one JSON object")


def _report_arguments(parser: argparse.ArgumentParser, default_window: str) -> None:
    parser.add_argument("--account", help="only this account (default: every account)")
    parser.add_argument(
        "--since",
        default=default_window,
        metavar="WINDOW",
        help=f"the window: {WINDOW_HELP} (default {default_window})",
    )
    _mode_argument(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _mode_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mode",
        choices=[mode.value for mode in Mode],
        help="the book (default: the mode the dashboard is in; a monitored account's is live)",
    )


def _events(commands: argparse._SubParsersAction) -> None:
    """events and ack."""
    feed = commands.add_parser("events", help="what happened to a book, newest first")
    feed.add_argument("--since", metavar="ISO_TIME", help=f"only events since: {SINCE_HELP}")
    feed.add_argument(
        "--mode",
        choices=[mode.value for mode in Mode],
        help="the book (default: the mode the dashboard is in)",
    )
    feed.add_argument("--json", action="store_true", help="print one JSON object")

    ack = commands.add_parser(
        "ack", help="acknowledge a holding changed outside the app (it leaves the badge)"
    )
    which = ack.add_mutually_exclusive_group(required=True)
    which.add_argument("event_id", nargs="?", metavar="EVENT_ID", help="the event (see events)")
    which.add_argument("--all", action="store_true", help="every incident waiting")


def _orders(commands: argparse._SubParsersAction) -> None:
    """orders, cancel and amend."""
    orders = commands.add_parser("orders", help="every working order and stop of a book")
    orders.add_argument("--live", action="store_true", help="the LIVE book (default: SIM)")
    orders.add_argument("--json", action="store_true", help="print one JSON object")

    cancel = commands.add_parser("cancel", help="cancel a working order, or all of a symbol")
    which = cancel.add_mutually_exclusive_group(required=True)
    which.add_argument("order_id", nargs="?", metavar="ORDER_ID", help="as `orders` lists it")
    which.add_argument("--symbol", metavar="S", help="every open order of this symbol")
    cancel.add_argument("--live", action="store_true", help="the LIVE book (default: SIM)")
    cancel.add_argument("--yes", action="store_true", help="with --live: do not ask first")
    cancel.add_argument("--json", action="store_true", help="print one JSON object")

    amend = commands.add_parser(
        "amend", help="move a working order of the app's to a new price (cancel and replace)"
    )
    amend.add_argument("order_id", metavar="ORDER_ID", help="as `orders` lists it")
    amend.add_argument("--price", required=True, metavar="P", help="the new limit price")
    amend.add_argument("--live", action="store_true", help="the LIVE book (default: SIM)")
    amend.add_argument("--yes", action="store_true", help="with --live: do not ask first")
    amend.add_argument("--json", action="store_true", help="print one JSON object")
