"""The service web/ and cli/ call: one object per process, its jobs split by module.

service.modes        SIM or LIVE (modes.py)
service.trading      BUY / SELL / CLOSE and the orders a crash left unknown (trading.py)
service.monitoring   the position monitor and the periodic check (monitoring.py)
service.reads        what the page and the command line show (read_models.py)
service.events       the event feed and acknowledging incidents (event_feed.py)
service.orders       working orders and stops, and cancelling them (working_orders.py)
service.alert_test   a test message to every alert address (alert_test.py)
"""

from __future__ import annotations

import functools

from core.config import Settings
from core.operations.caching import SharedCache
from core.operations.locks import TradeLocks
from core.service.alert_test import AlertTest
from core.service.composition import ExchangeAccess, Wiring
from core.service.event_feed import EventFeed
from core.service.kill_switch import KillSwitch
from core.service.markets import Markets
from core.service.modes import ModeCommands
from core.service.monitoring import MonitorCommands
from core.service.page_memory import PageMemory
from core.service.protection import ProtectionCommands
from core.service.read_models import ReadModels
from core.service.stored_mode import StoredMode
from core.service.trading import TradeCommands
from core.service.working_orders import OrdersCommands
from core.store.db import Database
from core.trading.gate import Gate


class TradingService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        access: ExchangeAccess,
        locks: TradeLocks,
        cache: SharedCache,
    ):
        self.wiring = wiring = Wiring(settings, db, access, locks, cache)
        stored = StoredMode(wiring)
        self.gate = Gate(db, locks, wiring.limits, stored.current, wiring.book_changed)
        self.protection = ProtectionCommands(wiring, self.gate, stored)
        self.kill_switch = KillSwitch(wiring, self.gate)
        self.trading = TradeCommands(wiring, self.gate, stored, self.protection)
        self.monitoring = MonitorCommands(wiring, self.gate, stored, self.trading)
        self.modes = ModeCommands(wiring, self.gate, stored, self.trading, self.monitoring)
        self.reads = ReadModels(wiring, stored)
        self.page_memory = PageMemory(wiring.cache)
        self.markets = Markets(wiring, stored)
        self.events = EventFeed(wiring, stored)
        self.orders = OrdersCommands(wiring, self.gate, stored)
        self.alert_test = AlertTest(wiring)
        self._stored = stored

    @functools.cached_property
    def insights(self):
        """The figures of health, results and export (pandas): built, and pandas imported,
        when first asked for, so the commands that show none never load it."""
        from core.service.insights import Insights

        return Insights(self.wiring, self._stored)

    @property
    def symbols(self) -> list[str]:
        return self.wiring.symbols

    @property
    def exchange_label(self) -> str:
        return self.wiring.exchange_label

    def account_names(self) -> list[str]:
        """The traded account and every account of ACCOUNTS_FILE."""
        return self.wiring.account_names()

    def start(self) -> list[str]:
        """Start-up: check the symbols, settle what a crash left, apply TRADING_MODE to a new
        database. Returns warnings to print."""
        warnings = [self.wiring.check_symbols()]
        self.trading.settle_interrupted()
        if self.modes.current().value == "live":
            warnings.extend(self.trading.reconcile_unresolved())
        warnings.append(self.modes.start())
        return [w for w in warnings if w]
