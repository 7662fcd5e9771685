"""The traded account's mode (SIM or LIVE) as stored: read now by every action, and at most
once a second by every page (the shared cache keeps it for all processes)."""

from __future__ import annotations

from core.domain import Mode
from core.service.composition import Wiring
from core.store import repository as repo

MODE_KEY = "mode"
SHOWN_KEY = "mode:shown"
SHOWN_SECONDS = 1


class StoredMode:
    def __init__(self, wiring: Wiring):
        self.wiring = wiring

    def current(self) -> Mode:
        """The stored mode, read now: what every action (a trade, a stop, a flatten) uses."""
        with self.wiring.db.session() as session:
            return Mode(repo.get_value(session, MODE_KEY) or Mode.SIM.value)

    def shown(self) -> Mode:
        """The mode the page shows; a switch forgets it at once."""
        loaded = self.wiring.cache.get_or_load(SHOWN_KEY, SHOWN_SECONDS, self._stored_value)
        return Mode(loaded)

    def _stored_value(self) -> str:
        return self.current().value

    def start(self) -> bool:
        """A new database starts in SIM; True when this call stored it (the database is new)."""
        with self.wiring.db.session() as session:
            return repo.set_value_if_absent(session, MODE_KEY, Mode.SIM.value)

    def store(self, mode: Mode) -> None:
        """Write it (the caller holds every symbol's lock) and forget the page's copy."""
        with self.wiring.db.session() as session:
            repo.set_value(session, MODE_KEY, mode.value)
        self.wiring.cache.forget(SHOWN_KEY)
