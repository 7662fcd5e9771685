"""Composition root and command line.

    python app.py [serve] [--host H] [--port P]   the dashboard (the default command)
    python app.py trade SYMBOL --target T ...      one synchronized trade (SIM unless --live)
    python app.py diagnose [--account A] [--json]  database against exchanges
    python app.py sync [--execute] [--policy P]    repair the database in one pass
    python app.py emulator --port P ...           the local MEXC-compatible exchange

`app:server` serves the dashboard under gunicorn.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from dataclasses import dataclass
from pathlib import Path

from cli import render
from core.accounts import AccountsError
from core.config import PROJECT_ROOT, Settings, SettingsError, load_settings
from core.domain import Mode, Policy, PositionState, TradeResult, TradeSize
from core.exchange.gateway import GatewayError
from core.locks import TradeLocks
from core.monitor import CorruptRecord
from core.scheduler import PeriodicCheck
from core.service import ACCOUNT, ExchangeAccess, InputError, StartupError, TradingService
from core.store.db import Database

DEMO_KEY, DEMO_SECRET = "demo-key", "demo-secret"


def exchange_access(settings: Settings) -> tuple[ExchangeAccess, object | None]:
    """The exchange the app talks to. With no URL and no keys that is the local demo
    exchange, started here in-process with its demo account."""
    if settings.uses_demo_exchange:
        from emulator.server import EmulatorServer

        emulator = EmulatorServer()
        emulator.start(host="127.0.0.1", port=0)
        return ExchangeAccess(
            "mexc", emulator.url, "local demo exchange", DEMO_KEY, DEMO_SECRET
        ), emulator
    label = (
        f"{settings.EXCHANGE.upper()} at {settings.EXCHANGE_URL}"
        if settings.EXCHANGE_URL
        else settings.EXCHANGE.upper()
    )
    access = ExchangeAccess(
        settings.EXCHANGE,
        settings.EXCHANGE_URL,
        label,
        settings.EXCHANGE_API_KEY.get_secret_value(),
        settings.EXCHANGE_API_SECRET.get_secret_value(),
    )
    return access, None


def lock_directory(settings: Settings, db: Database) -> Path:
    """Trade locks sit beside an SQLite file (so tests with their own database stay apart),
    otherwise under data/."""
    database = db.engine.url.database if db.engine.dialect.name == "sqlite" else None
    if database and database != ":memory:":
        return Path(database).resolve().parent / "locks"
    return PROJECT_ROOT / "data" / "locks"


@dataclass
class Engine:
    """The trading engine without a web page: what the command line needs."""

    settings: Settings
    db: Database
    service: TradingService
    emulator: object | None = None

    def close(self) -> None:
        self.db.dispose()
        if self.emulator is not None:
            self.emulator.stop()


def build_engine(settings: Settings) -> Engine:
    access, emulator = exchange_access(settings)
    try:
        db = Database.open(settings.DATABASE_URL)
        service = TradingService(settings, db, access, TradeLocks(lock_directory(settings, db)))
        warning = service.check_symbols()
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
        if service.mode() is Mode.LIVE:
            for problem in service.reconcile_unresolved():
                print(f"warning: {problem}", file=sys.stderr)
    except BaseException:
        if emulator is not None:
            emulator.stop()
        raise
    return Engine(settings, db, service, emulator)


@dataclass
class Runtime:
    """A running dashboard: the engine, the Dash app over it and, once started, the
    periodic check."""

    engine: Engine
    dash_app: object
    periodic: PeriodicCheck | None = None

    @property
    def service(self) -> TradingService:
        return self.engine.service

    def start_periodic_check(self) -> None:
        settings, db = self.engine.settings, self.engine.db
        self.periodic = PeriodicCheck(
            self.service.periodic_check,
            settings.SYNC_INTERVAL_SECONDS,
            lock_directory(settings, db),
            ACCOUNT,
        )
        self.periodic.start()

    def close(self) -> None:
        if self.periodic is not None:
            self.periodic.stop()
        self.engine.close()


def build_runtime(settings: Settings) -> Runtime:
    from web.app_factory import create_dash_app

    engine = build_engine(settings)
    try:
        dash_app = create_dash_app(engine.service)
        _protect(dash_app, settings)
    except BaseException:
        engine.close()
        raise
    return Runtime(engine, dash_app)


def _protect(dash_app, settings: Settings) -> None:
    password = settings.DASHBOARD_PASSWORD.get_secret_value()
    if password:
        import dash_auth

        dash_auth.BasicAuth(dash_app, {settings.DASHBOARD_USER: password})


def check_bind(host: str, settings: Settings) -> None:
    """Only loopback is served without a password."""
    if _is_loopback(host) or settings.DASHBOARD_PASSWORD.get_secret_value():
        return
    raise SettingsError(
        f"Setting HOST={host} would expose the dashboard beyond this machine; "
        "set DASHBOARD_PASSWORD to require a login, or bind 127.0.0.1"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(args: argparse.Namespace) -> int:
    overrides = {k: v for k, v in {"HOST": args.host, "PORT": args.port}.items() if v is not None}
    settings = load_settings(**overrides)
    check_bind(settings.HOST, settings)
    runtime = build_runtime(settings)
    runtime.start_periodic_check()
    print(
        f"Dashboard on http://{settings.HOST}:{settings.PORT} ({runtime.service.exchange_label})",
        flush=True,
    )
    try:
        runtime.dash_app.run(host=settings.HOST, port=settings.PORT, debug=False)
    finally:
        runtime.close()
    return 0


def trade(args: argparse.Namespace) -> int:
    """Exit 0 when the target state is verified, 1 when not, 2 on bad input."""
    settings = load_settings()
    mode = Mode.LIVE if args.live else Mode.SIM
    try:
        target = PositionState(args.target.upper())
    except ValueError:
        return _bad_input(f"--target accepts LONG, SHORT or NO_POSITION, not {args.target!r}")
    engine = build_engine(settings)
    try:
        service = engine.service
        if args.symbol not in service.symbols:
            return _bad_input(
                f"{args.symbol} is not one of the configured SYMBOLS ({settings.SYMBOLS})"
            )
        try:
            size = _trade_size(service, args, mode)
        except InputError as exc:
            return _bad_input(str(exc))
        if mode is Mode.LIVE:
            if not args.yes and not _confirmed(service.live_confirmation()):
                return _bad_input("not confirmed; nothing was sent")
            unresolved = service.reconcile_unresolved()
            if unresolved:
                return _finish(
                    args, TradeResult(False, args.symbol, target, None, None, unresolved[0])
                )
        return _finish(args, service.trade(args.symbol, target, size, mode=mode))
    finally:
        engine.close()


def _trade_size(service: TradingService, args: argparse.Namespace, mode: Mode) -> TradeSize | None:
    if args.size_quote is not None:
        return service.parse_size(args.size_quote, "quote", args.symbol, mode)
    if args.size_pct is not None:
        return service.parse_size(args.size_pct, "pct", args.symbol, mode)
    return None


def _confirmed(question: str) -> bool:
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _finish(args: argparse.Namespace, result: TradeResult) -> int:
    if args.json:
        print(render.to_json(render.trade_json(result)))
    else:
        print(result.message)
    return 0 if result.ok else 1


def _bad_input(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def diagnose(args: argparse.Namespace) -> int:
    """Exit 0 when in sync, 1 when discrepancies exist, 2 on error."""
    return _monitor(args, Policy.REPORT, execute=False)


def sync(args: argparse.Namespace) -> int:
    """A dry run unless --execute; exit 0 when every account was handled, 2 on error."""
    return _monitor(args, Policy(args.policy), execute=args.execute)


def _monitor(args: argparse.Namespace, policy: Policy, execute: bool) -> int:
    settings = load_settings()
    engine = build_engine(settings)
    try:
        progress = None if args.json or not sys.stderr.isatty() else _progress
        try:
            checks = engine.service.monitor(
                policy, execute, account=args.account, progress=progress
            )
        except (InputError, AccountsError, CorruptRecord, GatewayError) as exc:
            return _bad_input(str(exc))
    finally:
        engine.close()
    if progress is not None:
        print(file=sys.stderr)
    if args.command == "diagnose":
        print(
            render.to_json(render.diagnose_json(checks))
            if args.json
            else render.diagnose_text(checks)
        )
        failed, found = any(c.error for c in checks), any(c.discrepancies for c in checks)
        return 2 if failed else 1 if found else 0
    print(
        render.to_json(render.sync_json(checks, not execute))
        if args.json
        else render.sync_text(checks, not execute)
    )
    return 2 if any(c.error for c in checks) else 0


def _progress(index: int, total: int, account: str) -> None:
    print(f"\r[{index}/{total}] checking {account}...", end="", file=sys.stderr, flush=True)


def run_emulator(args: argparse.Namespace) -> int:
    from emulator import cli

    return cli.run(args)


def parser() -> argparse.ArgumentParser:
    from emulator import cli as emulator_cli

    root = argparse.ArgumentParser(
        prog="app.py", description="Trading dashboard with LIVE+SYNC for MEXC spot."
    )
    commands = root.add_subparsers(dest="command", metavar="COMMAND")
    serve_cmd = commands.add_parser("serve", help="run the dashboard (the default command)")
    serve_cmd.add_argument("--host", help="address to bind (default HOST, 127.0.0.1)")
    serve_cmd.add_argument("--port", type=int, help="port to listen on (default PORT, 8050)")
    serve_cmd.set_defaults(handler=serve)
    trade_cmd = commands.add_parser(
        "trade", help="sync one symbol to a target state (SIM unless --live)"
    )
    trade_cmd.add_argument("symbol", help="unified symbol, e.g. ETH/USDT")
    trade_cmd.add_argument("--target", required=True, help="LONG, SHORT or NO_POSITION")
    sizes = trade_cmd.add_mutually_exclusive_group()
    sizes.add_argument(
        "--size-quote", metavar="AMOUNT", help="buy for this amount of the quote asset"
    )
    sizes.add_argument(
        "--size-pct", metavar="P", help="buy for P%% of the free quote balance (default 95)"
    )
    trade_cmd.add_argument("--live", action="store_true", help="trade the real account")
    trade_cmd.add_argument("--yes", action="store_true", help="do not ask before a LIVE trade")
    trade_cmd.add_argument("--json", action="store_true", help="print one JSON object")
    trade_cmd.set_defaults(handler=trade)
    for name, handler, help_text in (
        ("diagnose", diagnose, "compare database positions with the exchanges"),
        ("sync", sync, "repair the database from the exchanges (dry run unless --execute)"),
    ):
        monitor_cmd = commands.add_parser(name, help=help_text)
        monitor_cmd.add_argument("--account", help="only this account (default: all)")
        monitor_cmd.add_argument("--json", action="store_true", help="print one JSON object")
        monitor_cmd.set_defaults(handler=handler)
        if name == "sync":
            monitor_cmd.add_argument("--execute", action="store_true", help="apply the plan")
            monitor_cmd.add_argument("--policy", choices=["adopt", "report"], default="adopt")
    emulator_cmd = commands.add_parser("emulator", help="run the local MEXC-compatible exchange")
    emulator_cli.configure_parser(emulator_cmd)
    emulator_cmd.set_defaults(handler=run_emulator)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command is None:
        args = parser().parse_args(["serve", *(argv or [])])
    try:
        return args.handler(args)
    except (SettingsError, StartupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def __getattr__(name: str):
    """`app:server` for gunicorn: the runtime is built on first use, not at import."""
    if name == "server":
        settings = load_settings()
        check_bind(settings.HOST, settings)
        runtime = build_runtime(settings)
        runtime.start_periodic_check()
        globals()["runtime"] = runtime
        globals()["server"] = runtime.dash_app.server
        return runtime.dash_app.server
    raise AttributeError(name)


if __name__ == "__main__":
    sys.exit(main())
