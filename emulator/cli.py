"""Command line for the emulator: `python -m emulator` and `python app.py emulator`."""

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from emulator import lifetime
from emulator.accounts import DEMO_API_KEY, DEMO_API_SECRET, DEMO_BALANCES, AccountSpec
from emulator.dialects import DIALECTS
from emulator.http_app import build_app, open_site
from emulator.numbers import fmt, parse_decimal
from emulator.server import build_state
from emulator.state import EmulatorState

HOST = "127.0.0.1"
DEFAULT_PORT = 8900


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range: {port}")
    return port


def _seconds(text: str) -> float:
    value = parse_decimal(text)
    if value is None or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return float(value)


def _count(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def _balance(text: str) -> tuple[str, str]:
    asset, sep, amount = text.partition("=")
    value = parse_decimal(amount)
    if not sep or not asset.isalnum() or value is None or value < 0:
        raise argparse.ArgumentTypeError(f"expected ASSET=AMOUNT such as USDT=1000, got {text!r}")
    return asset.upper(), fmt(value)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dialect",
        choices=list(DIALECTS),
        default="mexc",
        help="the exchange protocol to speak: MEXC spot, Bybit v5 linear or Binance USD-M",
    )
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help="TCP port (0 = any free)")
    parser.add_argument("--seed", type=int, default=None, help="seed for reproducible prices")
    parser.add_argument(
        "--freeze", action="store_true", help="hold prices still until the control API moves them"
    )
    parser.add_argument("--api-key", default=None, help=f"account API key (default {DEMO_API_KEY})")
    parser.add_argument("--api-secret", default=None, help="account API secret")
    parser.add_argument(
        "--balance",
        type=_balance,
        action="append",
        default=[],
        metavar="ASSET=AMOUNT",
        help="starting free balance, repeatable (default USDT=10000)",
    )
    parser.add_argument(
        "--rate-limits", action="store_true", help="enforce MEXC's per-endpoint rate limits"
    )
    parser.add_argument(
        "--markets",
        type=_count,
        default=0,
        metavar="N",
        help="mexc only: list N more spot markets (GEN1/USDT ... GENN/USDT, the same on every "
        "run) beside the known ones, as many as a real exchange lists",
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="mexc only: resume from PATH if it exists (its accounts, orders and prices win "
        "over --seed, --api-key and --balance) and keep it saved",
    )
    parser.add_argument(
        "--url-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="write the URL to PATH once listening (removed again on a clean stop)",
    )
    parser.add_argument(
        "--idle-exit",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="save and stop after SECONDS without a request",
    )


def _account_spec(args: argparse.Namespace) -> AccountSpec:
    if (args.api_key is None) != (args.api_secret is None):
        raise ValueError("--api-key and --api-secret must be given together")
    balances = dict(args.balance) if args.balance else dict(DEMO_BALANCES)
    if args.api_key is None:
        return AccountSpec(DEMO_API_KEY, DEMO_API_SECRET, balances)
    if not args.api_key or not args.api_secret:
        raise ValueError("--api-key and --api-secret must not be empty")
    return AccountSpec(args.api_key, args.api_secret, balances)


async def _serve(args: argparse.Namespace, state: EmulatorState) -> None:
    runner, port = await open_site(build_app(state), HOST, args.port)
    url = f"http://{HOST}:{port}"
    print(url, flush=True)
    if args.url_file is not None:
        lifetime.announce_url(args.url_file, url)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stopped.set)
    idle_watch = None
    if args.idle_exit is not None:
        idle_watch = asyncio.create_task(lifetime.stop_when_idle(state, args.idle_exit, stopped))
    try:
        await stopped.wait()
    finally:
        if idle_watch is not None:
            idle_watch.cancel()
        await runner.cleanup()
        if args.url_file is not None:
            lifetime.withdraw_url(args.url_file, url)
    if idle_watch is not None and idle_watch.done() and not idle_watch.cancelled():
        print(f"emulator: no request for {args.idle_exit:g} s; stopped", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Serve in the foreground on 127.0.0.1 until Ctrl-C, SIGTERM or the idle exit."""
    try:
        state = build_state(
            args.seed,
            args.freeze,
            [_account_spec(args)],
            args.rate_limits,
            args.dialect,
            args.state_file,
            args.markets,
        )
    except ValueError as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(args, state))
    except OSError as exc:
        print(f"emulator: cannot listen on {HOST}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        state.close()
    return 0


def main(argv: list[str] | None = None, prog: str = "python -m emulator") -> int:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="A local exchange: MEXC spot v3, Bybit v5 linear or Binance USD-M.",
    )
    configure_parser(parser)
    return run(parser.parse_args(argv))
