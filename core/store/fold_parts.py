"""A folded series kept in the database in slices of `PART` rows, each an .npz of its
columns (text columns as codes and their names; digits and numbers as they are; no
pickle), so that a fold that grows rewrites only the slices from its first changed row on.
Shared by the folds of sync health (core.store.health_folds), of trading results
(core.store.ledger_folds) and of equity curves (core.store.equity_folds); functions take
the caller's session and never commit.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np
import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

PART = 16_384
ALL = ""  # the account of a book's key: '' for all of its accounts
Columns = Mapping[str, np.ndarray]


def book_key(mode: str, account: str | None) -> dict[str, str]:
    """The key of a book's fold: its mode and one account, or ALL."""
    return {"mode": mode, "account": ALL if account is None else account}


def load(session: Session, model, key: Mapping[str, str], series: str) -> list[dict]:
    """The series' slices in order, each as its columns."""
    parts = session.scalars(
        select(model.data).filter_by(**key, series=series).order_by(model.part)
    ).all()
    return [_decoded(data) for data in parts]


def save(
    session: Session, model, key: Mapping[str, str], series: str, columns: Columns, kept: int
) -> None:
    """Store the series' `columns`, of which the first `kept` rows are as stored already:
    the slices from the one holding row `kept` on are written, and any past the end deleted."""
    length = len(next(iter(columns.values())))
    slices = -(-length // PART)
    for part in range(min(kept, length) // PART, slices):
        rows = {name: values[part * PART : (part + 1) * PART] for name, values in columns.items()}
        session.merge(
            model(
                **key,
                series=series,
                part=part,
                rows=min(PART, length - part * PART),
                data=_encoded(rows),
            )
        )
    session.execute(delete(model).filter_by(**key, series=series).where(model.part >= slices))


def first_change(before: np.ndarray, after: np.ndarray) -> int:
    """The first row where `after` differs from `before` (their common length when one
    begins with the other)."""
    common = min(len(before), len(after))
    differ = np.flatnonzero(before[:common] != after[:common])
    return int(differ[0]) if len(differ) else common


def _encoded(columns: Columns) -> bytes:
    arrays = {}
    for name, values in columns.items():
        if values.dtype == object:
            codes, names = pd.factorize(values)  # None: code -1
            arrays[name] = codes.astype(np.int32)
            arrays[f"{name}.names"] = np.array(list(names), dtype=str)
        else:
            arrays[name] = values
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _decoded(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as stored:
        columns = {}
        for name in stored.files:
            if name.endswith(".names"):
                continue
            if f"{name}.names" in stored.files:
                names = np.append(stored[f"{name}.names"].astype(object), None)
                columns[name] = names[stored[name]]  # code -1: the None at the end
            else:
                columns[name] = stored[name]
    return columns
