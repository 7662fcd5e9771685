"""Books: which trading records belong together. SIM and LIVE (and each LIVE account) never
mix; every query of a book goes through `in_book`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import and_

T = TypeVar("T")


@dataclass(frozen=True)
class BookKey:
    """Which book a record belongs to."""

    mode: str
    account: str


def in_book(model, book: BookKey):
    """The WHERE clause that keeps a query to one book (the model has `mode` and `account`)."""
    return and_(model.mode == book.mode, model.account == book.account)


# values per IN list: SQLite before 3.32 refuses a statement of more than 999 parameters
VALUES_PER_STATEMENT = 500


def chunked(values: Sequence[T]) -> Iterator[Sequence[T]]:
    """`values` in slices one statement's IN list can take."""
    for start in range(0, len(values), VALUES_PER_STATEMENT):
        yield values[start : start + VALUES_PER_STATEMENT]
