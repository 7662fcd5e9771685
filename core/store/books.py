"""Books: which trading records belong together. SIM and LIVE (and each LIVE account) never
mix; every query of a book goes through `in_book`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_


@dataclass(frozen=True)
class BookKey:
    """Which book a record belongs to."""

    mode: str
    account: str


def in_book(model, book: BookKey):
    """The WHERE clause that keeps a query to one book (the model has `mode` and `account`)."""
    return and_(model.mode == book.mode, model.account == book.account)
