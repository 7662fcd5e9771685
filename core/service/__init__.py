"""The service: the only part of core that web/ and cli/ talk to, with `core.views`.

Everything they need from core is importable from here. Each name is imported when first
asked for (PEP 562), so a command that needs the input parsers or the value types does not
load the exchange client, the database layer or pandas with them."""

from __future__ import annotations

import importlib

# the name -> the module that defines it
_WHERE = {
    **dict.fromkeys(
        (
            "ActionKind",
            "Candle",
            "DiscrepancyKind",
            "ExitPart",
            "Mode",
            "Origin",
            "PlacedBy",
            "Policy",
            "PositionState",
            "SizeKind",
            "TradeResult",
            "TradeSize",
        ),
        "core.domain",
    ),
    "AppError": "core.errors",
    "InputError": "core.errors",
    "ExchangeAccess": "core.service.composition",
    "StartupError": "core.service.composition",
    "TradingService": "core.service.facade",
    **dict.fromkeys(
        (
            "DEFAULT_SIZE_TEXT",
            "DEFAULT_SIZE_UNIT",
            "RISK_DEFAULT",
            "parse_amount",
            "parse_exit_part",
            "parse_size",
            "parse_symbol",
            "parse_since",
            "parse_target",
        ),
        "core.service.inputs",
    ),
    "EXPORT_TABLES": "core.insights.choices",
    "Preview": "core.trading.sizing",
    "count": "core.wording",
}
_RENAMED = {
    "ACCOUNT": ("core.accounts.accounts_file", "TRADED_ACCOUNT"),
    "render_metrics": ("core.operations.metrics", "render"),
}

__all__ = sorted([*_WHERE, *_RENAMED])


def __getattr__(name: str):
    if name in _WHERE:
        module, attribute = _WHERE[name], name
    elif name in _RENAMED:
        module, attribute = _RENAMED[name]
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value
