"""The event feed for the command line (`events`) and acknowledging incidents (the page's
button and `ack`): a holding changed outside the app stays on the badge until then."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from core import wording
from core.domain import Mode
from core.errors import InputError
from core.service.composition import Wiring
from core.service.inputs import parse_since
from core.service.stored_mode import StoredMode
from core.store import events
from core.store.books import BookKey
from core.store.models import utcnow
from core.views import BookEvent

MOST_EVENTS = 1000
ACK_LISTS = 5  # an acknowledgement of more events than this lists these first and counts the rest
_ISO_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})?)?",
    re.ASCII,
)


def parse_since_time(text: str, now: datetime | None = None) -> datetime | None:
    """`--since`: an ISO time (`2026-12-02T17:00:00Z`; without a zone it is UTC), or a
    window back from now (`1h`, `24h`, `7d`, `all`). Raises InputError saying what it takes."""
    cleaned = text.strip()
    if _ISO_TIME.fullmatch(cleaned):
        try:
            when = datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"--since {cleaned!r} is not a date and time that exists") from None
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    try:
        window = parse_since(cleaned)
    except InputError:
        raise InputError(
            f"--since takes an ISO time such as 2026-12-02T17:00:00Z (UTC unless a zone is "
            f"given) or a window such as 1h, 24h, 7d or all, not {text!r}"
        ) from None
    return None if window is None else (now or utcnow()) - window


@dataclass(frozen=True)
class Acknowledged:
    """What `ack` did: the incidents it acknowledged, and the lines saying so (the command
    line prints them, the page's toast shows one under the other)."""

    events: list[BookEvent]
    lines: list[str]

    @classmethod
    def of(cls, acked: list[BookEvent]) -> Acknowledged:
        """A line per event, up to ACK_LISTS of them; more (a sync that found thousands of
        changes outside the app) are how many, the first ACK_LISTS and how many more, so
        the trader reads seven lines, not 7,500."""
        if len(acked) <= ACK_LISTS:
            return cls(acked, [f"acknowledged event {e.id}: {e.text}" for e in acked])
        return cls(
            acked,
            [
                f"acknowledged {wording.count(len(acked), 'event')}, the first {ACK_LISTS}:",
                *(f"event {e.id}: {e.text}" for e in acked[:ACK_LISTS]),
                f"and {len(acked) - ACK_LISTS:,} more",
            ],
        )

    @property
    def message(self) -> str:
        return "\n".join(self.lines)


class EventFeed:
    def __init__(self, wiring: Wiring, stored: StoredMode):
        self.wiring = wiring
        self._stored = stored

    def events(
        self, since: datetime | None = None, mode: Mode | None = None, limit: int = MOST_EVENTS
    ) -> list[BookEvent]:
        """Every account's events in `mode`'s book (by default the dashboard's), newest
        first, at most `limit`."""
        mode = mode or self._stored.current()
        with self.wiring.db.session() as session:
            found = events.recent_events(session, mode=mode.value, since=since, limit=limit)
        return found

    def waiting(self, mode: Mode | None = None) -> list[BookEvent]:
        """Incidents nobody has acknowledged, of `mode`'s book or of every book."""
        with self.wiring.db.session() as session:
            found = events.unacknowledged(session)
        return [e for e in found if mode is None or e.mode == mode.value]

    def acknowledge(self, event_id: int) -> Acknowledged:
        """One incident, by its id. InputError when there is no such event or it is not an
        incident; one acknowledged before is said so and left as it is."""
        with self.wiring.db.session() as session:
            event = events.find_event(session, event_id)
            if event is None:
                raise InputError(f"there is no event {event_id} (see `events` for their ids)")
            if not event.needs_ack:
                raise InputError(
                    f"event {event_id} ({event.kind}) is not an incident: nothing to acknowledge"
                )
            if event.acked_at is not None:
                when = event.acked_at.strftime("%Y-%m-%d %H:%M:%S UTC")
                return Acknowledged([], [f"event {event_id} was acknowledged already, at {when}"])
        return self._acknowledge([event_id])

    def acknowledge_all(self, mode: Mode | None = None) -> Acknowledged:
        """Every incident waiting, of `mode`'s book (the page's) or of every book (`ack
        --all`)."""
        return self._acknowledge([e.id for e in self.waiting(mode)])

    def _acknowledge(self, ids: list[int]) -> Acknowledged:
        """The events acknowledged in one transaction (two statements however many), then
        their alerts cleared together."""
        with self.wiring.db.session() as session:
            acked = events.find_events(session, events.acknowledge(session, ids))
        self.wiring.observers.acknowledged_events(acked)
        for book in {BookKey(e.mode, e.account) for e in acked}:
            self.wiring.book_changed(book)
        if not acked:
            return Acknowledged([], ["nothing to acknowledge: no incident is waiting"])
        return Acknowledged.of(acked)
