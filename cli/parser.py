"""The command line's arguments: every command, its flags and their help."""

from __future__ import annotations

import argparse

from cli import event_commands, insights_commands, order_commands


def parser() -> argparse.ArgumentParser:
    from emulator import cli as emulator_cli

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

    insights_commands.configure(commands)
    event_commands.configure(commands)
    order_commands.configure(commands)

    commands.add_parser("worker", help="the periodic check and stop watcher, without the page")

    emulator = commands.add_parser("emulator", help="run the local MEXC-compatible exchange")
    emulator_cli.configure_parser(emulator)
    return root
