"""USDT-margined perpetual contracts: one catalogue served by both derivative dialects.

The figures follow the real listings in spirit (tick, quantity step, minimum order value,
maximum leverage) without copying any one exchange; both dialects render the same market.
"""

from dataclasses import dataclass
from decimal import Decimal

from emulator.numbers import step

SETTLE = "USDT"
MAKER_FEE = Decimal("0.0002")
TAKER_FEE = Decimal("0.00055")
MAINTENANCE_MARGIN_RATE = Decimal("0.005")
DEFAULT_LEVERAGE = Decimal(10)
LAUNCH_TIME_MS = 1_585_526_400_000  # 2020-03-30, when most of these contracts were listed

# base, start price, price decimals, quantity decimals, max limit qty, max market qty,
# min order value (USDT), max leverage
CONTRACTS = [
    ("BTC", "97000", 1, 3, "1190", "119", "100", 100),
    ("ETH", "3400", 2, 2, "7240", "724", "20", 100),
    ("SOL", "180", 2, 1, "79770", "7977", "5", 100),
    ("XRP", "2.2", 4, 1, "4840000", "484000", "5", 75),
    ("DOGE", "0.32", 5, 0, "46260000", "4626000", "5", 75),
    ("BNB", "640", 2, 2, "7400", "740", "5", 75),
    ("ADA", "0.7", 4, 0, "8560000", "856000", "5", 75),
    ("LTC", "90", 2, 1, "70000", "7000", "5", 75),
    ("LINK", "19", 3, 1, "200000", "20000", "5", 75),
    ("AVAX", "36", 3, 1, "100000", "10000", "5", 75),
    ("DOT", "6.5", 3, 1, "800000", "80000", "5", 50),
    ("TRX", "0.24", 5, 0, "30000000", "3000000", "5", 75),
]


@dataclass(frozen=True)
class PerpMarket:
    """One linear perpetual; quantities are in the base coin (contract size 1)."""

    symbol: str
    base: str
    quote: str
    price_decimals: int
    qty_decimals: int
    max_qty: Decimal
    max_market_qty: Decimal
    min_notional: Decimal
    max_leverage: int
    start_price: Decimal
    maker_fee: Decimal = MAKER_FEE
    taker_fee: Decimal = TAKER_FEE
    maintenance_margin_rate: Decimal = MAINTENANCE_MARGIN_RATE

    @property
    def tick(self) -> Decimal:
        return step(self.price_decimals)

    @property
    def lot(self) -> Decimal:
        return step(self.qty_decimals)

    @property
    def min_qty(self) -> Decimal:
        return self.lot

    @property
    def base_decimals(self) -> int:
        """What the shared price walk and synthetic book call the quantity precision."""
        return self.qty_decimals

    @property
    def max_price(self) -> Decimal:
        return self.start_price * 1000

    @property
    def min_price(self) -> Decimal:
        return self.tick


def load_perp_catalogue() -> dict[str, PerpMarket]:
    markets = {}
    for base, price, price_dec, qty_dec, max_qty, max_mkt, min_value, leverage in CONTRACTS:
        market = PerpMarket(
            symbol=base + SETTLE,
            base=base,
            quote=SETTLE,
            price_decimals=price_dec,
            qty_decimals=qty_dec,
            max_qty=Decimal(max_qty),
            max_market_qty=Decimal(max_mkt),
            min_notional=Decimal(min_value),
            max_leverage=leverage,
            start_price=Decimal(price),
        )
        markets[market.symbol] = market
    return markets
