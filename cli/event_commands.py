"""The events and ack commands: what happened to a book, newest first, and acknowledging the
incidents (holdings changed outside the app) the badge shows until then.

Exit codes: 0 done; 2 bad input (a time that is not one, an event that does not exist or is
not an incident), in which case nothing is written."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from cli.parser import bad_input
from cli.render import to_json
from core.service import InputError, Mode
from core.service.event_feed import parse_since_time
from core.service.inputs import parse_whole_number
from core.views import BookEvent


def events(args: argparse.Namespace, settings, build_engine: Callable) -> int:
    """Exit 0 with the events (none is no error); 2 on a --since that is not a time."""
    try:
        since = None if args.since is None else parse_since_time(args.since)
    except InputError as exc:
        return bad_input(str(exc))
    engine = build_engine(settings)
    try:
        found = engine.service.events.events(since, Mode(args.mode) if args.mode else None)
    finally:
        engine.close()
    print(to_json({"events": [event_json(e) for e in found]}) if args.json else events_text(found))
    return 0


def ack(args: argparse.Namespace, settings, build_engine: Callable) -> int:
    """Exit 0 when acknowledged (or nothing was waiting); 2 on an id that is not a whole
    number, no such event, or an event that is not an incident."""
    try:
        event_id = None if args.all else parse_whole_number(args.event_id, "EVENT_ID")
    except InputError as exc:
        return bad_input(str(exc))
    engine = build_engine(settings)
    try:
        feed = engine.service.events
        outcome = feed.acknowledge_all() if event_id is None else feed.acknowledge(event_id)
    except InputError as exc:
        return bad_input(str(exc))
    finally:
        engine.close()
    print(outcome.message)
    return 0


def event_json(event: BookEvent) -> dict:
    return {
        "id": event.id,
        "time": event.time.isoformat(),
        "mode": event.mode,
        "account": event.account,
        "symbol": event.symbol,
        "kind": event.kind,
        "who": event.who,
        "text": event.text,
        "needs_ack": event.needs_ack,
        "acked_at": event.acked_at.isoformat() if event.acked_at else None,
    }


def events_text(found: list[BookEvent]) -> str:
    """One line per event: id, time, who, what; an incident still waiting says so."""
    if not found:
        return "no events"
    lines = []
    for e in found:
        waiting = f"  [acknowledge: ack {e.id}]" if e.waiting else ""
        where = f"{e.account} {e.symbol}" if e.symbol else e.account
        lines.append(
            f"{e.id:>6}  {e.time:%Y-%m-%d %H:%M:%S}  {e.mode:<4}  {e.who:<8}  {where}: "
            f"{e.text}{waiting}"
        )
    return "\n".join(lines)


HANDLERS = {"events": events, "ack": ack}
