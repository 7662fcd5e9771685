"""The service: the only part of core that web/ and cli/ talk to, with `core.views`.

Everything they need from core is importable from here."""

from core.domain import (
    ActionKind,
    Candle,
    DiscrepancyKind,
    Mode,
    Origin,
    Policy,
    PositionState,
    TradeResult,
    TradeSize,
)
from core.errors import AppError, InputError
from core.operations.metrics import render as render_metrics
from core.service.composition import ACCOUNT, ExchangeAccess, StartupError
from core.service.facade import TradingService
from core.service.inputs import parse_amount, parse_size, parse_symbol, parse_target
from core.wording import count

__all__ = [
    "ACCOUNT",
    "ActionKind",
    "AppError",
    "Candle",
    "DiscrepancyKind",
    "ExchangeAccess",
    "InputError",
    "Mode",
    "Origin",
    "Policy",
    "PositionState",
    "StartupError",
    "TradeResult",
    "TradeSize",
    "TradingService",
    "count",
    "parse_amount",
    "parse_size",
    "parse_symbol",
    "parse_target",
    "render_metrics",
]
