"""The service: the only part of core that web/ and cli/ talk to, with `core.views`.

Everything they need from core is importable from here."""

from core.domain import (
    ActionKind,
    Candle,
    DiscrepancyKind,
    ExitPart,
    Mode,
    Origin,
    Policy,
    PositionState,
    SizeKind,
    TradeResult,
    TradeSize,
)
from core.errors import AppError, InputError
from core.operations.metrics import render as render_metrics
from core.service.composition import ACCOUNT, ExchangeAccess, StartupError
from core.service.facade import TradingService
from core.service.inputs import (
    DEFAULT_SIZE_TEXT,
    DEFAULT_SIZE_UNIT,
    RISK_DEFAULT,
    parse_amount,
    parse_exit_part,
    parse_size,
    parse_symbol,
    parse_target,
)
from core.trading.sizing import Preview
from core.wording import count

__all__ = [
    "ACCOUNT",
    "DEFAULT_SIZE_TEXT",
    "DEFAULT_SIZE_UNIT",
    "RISK_DEFAULT",
    "ActionKind",
    "AppError",
    "Candle",
    "DiscrepancyKind",
    "ExchangeAccess",
    "ExitPart",
    "InputError",
    "Mode",
    "Origin",
    "Policy",
    "PositionState",
    "Preview",
    "SizeKind",
    "StartupError",
    "TradeResult",
    "TradeSize",
    "TradingService",
    "count",
    "parse_amount",
    "parse_exit_part",
    "parse_size",
    "parse_symbol",
    "parse_target",
    "render_metrics",
]
