"""The one root of every error the app reports to a person.

Its text is what the page, the toast or the command line shows: what failed, for which
account and symbol, and what the app did about it. Never a key, a signature or raw JSON.
`InputError` is the kind for input a person typed that the app will not act on.
"""

from __future__ import annotations


class AppError(Exception):
    """Something failed that a person must be told about, in words."""


class InputError(AppError, ValueError):
    """Input from a person (or a file they wrote) that the app will not act on; the text
    says what to fix."""


class TradeBusy(AppError):
    """Another trade of the same account and symbol is running."""

    def __init__(self, symbol: str):
        super().__init__(f"a trade for {symbol} is already running")


class LockLost(AppError):
    """A trade lock this process held is no longer held (its database session ended): no
    order may be sent under it."""

    def __init__(self, symbol: str):
        super().__init__(
            f"the trade lock of {symbol} was lost (its database connection ended); "
            "nothing more is sent for it"
        )


class Refused(AppError):
    """The gate refused an order (or a whole trade): halted book, another mode, a size
    above what the trader allowed. The text says why and what to do."""
