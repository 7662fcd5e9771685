"""Accounts: credentials and per-asset free/locked balances."""

from dataclasses import dataclass, field
from decimal import Decimal

from emulator.numbers import parse_decimal

DEMO_API_KEY = "demo-key"
DEMO_API_SECRET = "demo-secret"
DEMO_BALANCES = {"USDT": "10000"}


@dataclass
class AccountSpec:
    api_key: str
    api_secret: str
    balances: dict[str, str]


def demo_account_spec() -> AccountSpec:
    return AccountSpec(DEMO_API_KEY, DEMO_API_SECRET, dict(DEMO_BALANCES))


def parse_balances(balances: object) -> dict[str, Decimal]:
    """Validated {ASSET: amount}; raises ValueError for non-decimal, negative or odd entries."""
    if not isinstance(balances, dict):
        raise ValueError("balances must be an object of ASSET: amount")
    parsed = {}
    for asset, amount in balances.items():
        value = parse_decimal(amount)
        if not isinstance(asset, str) or not asset.isalnum() or len(asset) > 20:
            raise ValueError(f"invalid asset name {asset!r}")
        if value is None or value < 0:
            raise ValueError(f"invalid amount for {asset}: {amount!r}")
        parsed[asset.upper()] = value
    return parsed


@dataclass
class Balance:
    free: Decimal = Decimal(0)
    locked: Decimal = Decimal(0)


@dataclass
class Account:
    api_key: str
    api_secret: str
    balances: dict[str, Balance] = field(default_factory=dict)

    @classmethod
    def from_spec(cls, spec: AccountSpec) -> "Account":
        amounts = parse_balances(spec.balances)
        return cls(spec.api_key, spec.api_secret, {a: Balance(v) for a, v in amounts.items()})

    def balance(self, asset: str) -> Balance:
        return self.balances.setdefault(asset, Balance())

    def free(self, asset: str) -> Decimal:
        return self.balance(asset).free

    def lock(self, asset: str, amount: Decimal) -> None:
        balance = self.balance(asset)
        balance.free -= amount
        balance.locked += amount

    def unlock(self, asset: str, amount: Decimal) -> None:
        balance = self.balance(asset)
        balance.locked -= amount
        balance.free += amount

    def spend_locked(self, asset: str, amount: Decimal) -> None:
        self.balance(asset).locked -= amount

    def credit(self, asset: str, amount: Decimal) -> None:
        self.balance(asset).free += amount
