"""Pure builders of the position monitor's view: account checks and recorded monitor runs
in, components out. An account whose exchange failed is shown as failed, never as flat."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

import dash_bootstrap_components as dbc
from dash import html

from core.service import ActionKind, DiscrepancyKind
from core.views import AccountCheckView, MonitorRunView
from web import formatting as fmt
from web.components import table_sections

DISCREPANCY_COLUMNS = (
    "Kind",
    "Account",
    "Symbol",
    "Recorded qty",
    "Exchange qty",
    "Recorded price",
    "Exchange price",
    "Exchange",
    "Side held",
    "Entry",
    "Leverage",
    "Liq. price",
)
PLAN_COLUMNS = ("Action", "Account", "Symbol", "Qty before", "Qty after", "Price", "Because")
HISTORY_COLUMNS = ("Time", "Account", "Policy", "Result", "Found", "Changed", "Took", "Calls")
KIND_MEANINGS = {
    DiscrepancyKind.ORPHAN_DB: "recorded in the database, not held on the exchange",
    DiscrepancyKind.ORPHAN_EXCHANGE: "held on the exchange, not recorded in the database",
    DiscrepancyKind.QTY_MISMATCH: "the database and the exchange hold different quantities",
    DiscrepancyKind.SIDE_MISMATCH: "the database records one side (long/short), the exchange holds the other",
    DiscrepancyKind.STALE_PRICE: "the recorded price is older than STALE_PRICE_SECONDS",
}
DISCREPANCY_ORDER = {kind: i for i, kind in enumerate(DiscrepancyKind)}
ACTION_ORDER = {kind: i for i, kind in enumerate(ActionKind)}
DIAGNOSE_HINT = "Diagnose compares the database with the exchange and changes nothing."
PLAN_HINT = (
    "Preview sync shows what adopt would change; Apply sync writes it to the database "
    "after you confirm."
)
NOT_CHECKED = "Not checked: see the message above."


class Step(StrEnum):
    DIAGNOSE = "Diagnose"
    PREVIEW = "Preview sync"
    APPLY = "Apply sync"


STEP_DONE = {
    Step.DIAGNOSE: "Diagnosed (report: nothing changed)",
    Step.PREVIEW: "Previewed the adopt sync (dry run: nothing changed)",
    Step.APPLY: "Applied the adopt sync to the database",
}


class MonitorOutcome(NamedTuple):
    """What the three regions of the monitor view show after one step."""

    status: list
    discrepancies: list
    plan: list


def counts_text(counts: dict[str, int]) -> str:
    """`1 close, 1 create`: how many of each kind, kinds in name order; `none` if empty."""
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "none"


def hint(text: str) -> html.P:
    return html.P(text, className="text-muted mb-0")


def monitor_outcome(checks: list[AccountCheckView], step: Step, when: datetime) -> MonitorOutcome:
    status = [
        html.Div(f"{STEP_DONE[step]} at {fmt.timestamp(when)}.", className="mb-2"),
        *(account_alert(check) for check in checks),
    ]
    plan = [hint(PLAN_HINT)] if step is Step.DIAGNOSE else plan_table(checks, step)
    return MonitorOutcome(status, discrepancy_table(checks), plan)


def monitor_failure(message: str, step: Step, when: datetime) -> MonitorOutcome:
    """A step that could not run at all (no keys, an unreadable accounts file...)."""
    alert = dbc.Alert(
        f"{step.value} failed at {fmt.timestamp(when)}: {message}", color="danger", className="mb-0"
    )
    return MonitorOutcome([alert], [hint(NOT_CHECKED)], [hint(NOT_CHECKED)])


def account_alert(check: AccountCheckView) -> dbc.Alert:
    """One line per account: failed (red), out of sync (amber) or in sync (green)."""
    cost = f"{check.api_calls} API calls, {check.duration_ms} ms"
    if check.error:
        text = (
            f"{check.account}: exchange check failed: {check.error}. Its positions are "
            "unknown (not taken as flat) and nothing was changed for it."
        )
        return dbc.Alert(text, color="danger", className="py-1 px-2 mb-1")
    if check.discrepancies:
        found = counts_text(Counter(d.kind.value for d in check.discrepancies))
        text = f"{check.account}: {len(check.discrepancies)} discrepancies ({found}); {cost}"
        return dbc.Alert(text, color="warning", className="py-1 px-2 mb-1")
    return dbc.Alert(
        f"{check.account}: in sync; {cost}", color="success", className="py-1 px-2 mb-1"
    )


def _with_heading(heading: str | None, table: dbc.Table) -> list:
    return [html.Div(heading, className="mb-2"), table] if heading else [table]


def _side(qty) -> str:
    if not qty:
        return "—"
    return "LONG" if qty > 0 else "SHORT"


def discrepancy_table(checks: list[AccountCheckView]) -> list:
    """Every discrepancy of the accounts that answered, grouped by kind."""
    exchanges = {check.account: check.exchange for check in checks}
    found = sorted(
        (d for check in checks for d in check.discrepancies),
        key=lambda d: (DISCREPANCY_ORDER[d.kind], d.account, d.symbol),
    )
    rows = [
        html.Tr(
            [
                html.Td(d.kind.value, title=KIND_MEANINGS[d.kind], className="text-warning"),
                html.Td(d.account),
                html.Td(d.symbol),
                html.Td(fmt.quantity(d.recorded_qty)),
                html.Td(fmt.quantity(d.exchange_qty)),
                html.Td(fmt.price(d.recorded_price)),
                html.Td(fmt.price(d.exchange_price)),
                html.Td(exchanges.get(d.account) or "—"),
                html.Td(_side(d.exchange_qty)),
                html.Td(fmt.price(d.entry_price)),
                html.Td(f"{d.leverage.normalize():f}x" if d.leverage else "—"),
                html.Td(fmt.price(d.liquidation_price)),
            ]
        )
        for d in found
    ]
    everyone_answered = all(check.ok for check in checks)
    empty = (
        "None: the database matches the exchange."
        if everyone_answered
        else "None in the accounts that answered."
    )
    heading = f"{len(found)} found: {counts_text(Counter(d.kind.value for d in found))}."
    table = _table(table_sections(DISCREPANCY_COLUMNS, rows, empty))
    return _with_heading(heading if found else None, table)


def plan_table(checks: list[AccountCheckView], step: Step) -> list:
    """The adopt plan's actions: previewed (not yet written) or applied."""
    actions = sorted(
        (a for check in checks for a in check.actions),
        key=lambda a: (ACTION_ORDER[a.kind], a.account, a.symbol),
    )
    rows = [
        html.Tr(
            [
                html.Td(a.kind.value, className="fw-bold"),
                html.Td(a.account),
                html.Td(a.symbol),
                html.Td(fmt.quantity(a.before_qty)),
                html.Td(fmt.quantity(a.after_qty)),
                html.Td(fmt.price(a.price)),
                html.Td(a.reason.value, title=KIND_MEANINGS[a.reason]),
            ]
        )
        for a in actions
    ]
    counts = counts_text(Counter(a.kind.value for a in actions))
    heading = (
        f"Applied to the database: {counts}."
        if step is Step.APPLY
        else f"Adopt plan, not applied yet: {counts}."
    )
    table = _table(table_sections(PLAN_COLUMNS, rows, "Nothing to change."))
    return _with_heading(heading if actions else None, table)


def history_rows(runs: list[MonitorRunView]) -> list:
    rows = [
        html.Tr(
            [
                html.Td(fmt.timestamp(r.time)),
                html.Td(r.account),
                html.Td(r.policy),
                html.Td(
                    "OK" if r.ok else f"FAILED: {r.message}",
                    className="text-success" if r.ok else "text-danger",
                ),
                html.Td(counts_text(r.discrepancies)),
                html.Td(counts_text(r.actions)),
                html.Td(f"{r.duration_ms} ms"),
                html.Td(str(r.api_calls)),
            ]
        )
        for r in runs
    ]
    return table_sections(HISTORY_COLUMNS, rows, "No monitor runs recorded yet.")


def _table(sections: list) -> dbc.Table:
    return dbc.Table(
        sections, size="sm", hover=True, striped=True, responsive=True, className="mb-0"
    )
