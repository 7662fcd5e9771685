"""The market catalogue: nine recorded MEXC spot entries verbatim, plus synthetic ones in the same shape."""

import json
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

QUOTE = "USDT"

# Start prices for the recorded markets (the recording carries no prices).
RECORDED_START_PRICES = {
    "BTCUSDT": "97000",
    "LTCUSDT": "90",
    "ADAUSDT": "0.7",
    "XRPUSDT": "2.2",
    "SOLUSDT": "180",
    "TRXUSDT": "0.24",
    "ATLASUSDT": "0.0012",
    "ETHUSDT": "3400",
    "PYTHUSDT": "0.15",
}

# base, full name, start price, baseAssetPrecision, quoteAssetPrecision, baseSizePrecision
SYNTHETIC_MARKETS = [
    ("DOGE", "Dogecoin", "0.32", 2, 5, "1"),
    ("BNB", "BNB", "640", 3, 2, "0.001"),
    ("AVAX", "Avalanche", "36", 2, 3, "0.01"),
    ("DOT", "Polkadot", "6.5", 2, 4, "0.01"),
    ("LINK", "Chainlink", "19", 2, 3, "0.01"),
    ("TON", "Toncoin", "5.4", 2, 4, "0.01"),
    ("SHIB", "Shiba Inu", "0.000021", 0, 9, "1000"),
    ("UNI", "Uniswap", "11", 2, 3, "0.01"),
    ("ATOM", "Cosmos", "6.6", 2, 4, "0.01"),
    ("NEAR", "NEAR Protocol", "4.9", 2, 4, "0.01"),
    ("APT", "Aptos", "9.2", 2, 4, "0.01"),
    ("ARB", "Arbitrum", "0.75", 2, 4, "0.1"),
    ("OP", "Optimism", "1.9", 2, 4, "0.01"),
    ("FIL", "Filecoin", "5.1", 2, 4, "0.01"),
    ("ICP", "Internet Computer", "10.5", 2, 3, "0.01"),
    ("BCH", "Bitcoin Cash", "450", 4, 2, "0.0001"),
    ("ETC", "Ethereum Classic", "27", 2, 3, "0.01"),
    ("XLM", "Stellar", "0.42", 1, 5, "0.1"),
    ("SUI", "Sui", "4.1", 2, 4, "0.01"),
    ("PEPE", "Pepe", "0.0000185", 0, 10, "10000"),
    ("MX", "MX Token", "3.1", 2, 4, "0.01"),
    ("INJ", "Injective", "24", 2, 3, "0.01"),
    ("AAVE", "Aave", "320", 3, 2, "0.001"),
    ("HBAR", "Hedera", "0.28", 1, 5, "0.1"),
    ("KAS", "Kaspa", "0.12", 2, 6, "0.1"),
    ("ALGO", "Algorand", "0.35", 1, 5, "0.1"),
    ("VET", "VeChain", "0.045", 0, 6, "1"),
    ("SAND", "The Sandbox", "0.55", 2, 5, "0.1"),
    ("MANA", "Decentraland", "0.5", 2, 5, "0.1"),
    ("AXS", "Axie Infinity", "7.1", 2, 4, "0.01"),
    ("GRT", "The Graph", "0.22", 1, 5, "0.1"),
    ("MKR", "Maker", "1700", 4, 2, "0.0001"),
    ("CRV", "Curve DAO", "0.8", 2, 5, "0.1"),
    ("LDO", "Lido DAO", "1.8", 2, 4, "0.01"),
    ("RUNE", "THORChain", "4.5", 2, 4, "0.01"),
    ("EGLD", "MultiversX", "32", 2, 3, "0.01"),
    ("THETA", "Theta Network", "2.1", 2, 4, "0.01"),
    ("XTZ", "Tezos", "1.2", 2, 4, "0.01"),
    ("EOS", "EOS", "0.8", 2, 4, "0.1"),
    ("NEO", "Neo", "14", 2, 3, "0.01"),
    ("ZEC", "Zcash", "55", 3, 2, "0.001"),
    ("DASH", "Dash", "34", 3, 2, "0.001"),
    ("COMP", "Compound", "75", 3, 2, "0.001"),
    ("SNX", "Synthetix", "2.2", 2, 4, "0.01"),
    ("ENS", "Ethereum Name Service", "28", 2, 3, "0.01"),
]


@dataclass(frozen=True)
class Market:
    """One spot market; `entry` is its exchangeInfo object exactly as served."""

    symbol: str
    base: str
    quote: str
    base_decimals: int
    quote_decimals: int
    min_qty: Decimal
    min_notional: Decimal
    min_notional_market: Decimal
    max_notional: Decimal
    max_notional_market: Decimal
    maker_fee: Decimal
    taker_fee: Decimal
    start_price: Decimal
    entry: dict

    @property
    def tick(self) -> Decimal:
        return Decimal(1).scaleb(-self.quote_decimals)

    @property
    def lot(self) -> Decimal:
        return Decimal(1).scaleb(-self.base_decimals)


def _synthetic_entry(base: str, name: str, base_dec: int, quote_dec: int, min_qty: str) -> dict:
    return {
        "symbol": base + QUOTE,
        "status": "1",
        "baseAsset": base,
        "baseAssetPrecision": str(base_dec),
        "quoteAsset": QUOTE,
        "quotePrecision": str(quote_dec),
        "quoteAssetPrecision": str(quote_dec),
        "baseCommissionPrecision": str(base_dec),
        "quoteCommissionPrecision": str(quote_dec),
        "orderTypes": ["LIMIT", "MARKET", "LIMIT_MAKER"],
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "quoteAmountPrecision": "1",
        "baseSizePrecision": min_qty,
        "permissions": ["SPOT"],
        "filters": [],
        "maxQuoteAmount": "2000000",
        "makerCommission": "0",
        "takerCommission": "0.0005",
        "quoteAmountPrecisionMarket": "1",
        "maxQuoteAmountMarket": "100000",
        "fullName": name,
        "tradeSideType": "1",
        "st": False,
    }


def _market_from_entry(entry: dict, start_price: str) -> Market:
    return Market(
        symbol=entry["symbol"],
        base=entry["baseAsset"],
        quote=entry["quoteAsset"],
        base_decimals=int(entry["baseAssetPrecision"]),
        quote_decimals=int(entry["quoteAssetPrecision"]),
        min_qty=Decimal(entry["baseSizePrecision"]),
        min_notional=Decimal(entry["quoteAmountPrecision"]),
        min_notional_market=Decimal(entry["quoteAmountPrecisionMarket"]),
        max_notional=Decimal(entry["maxQuoteAmount"]),
        max_notional_market=Decimal(entry["maxQuoteAmountMarket"]),
        maker_fee=Decimal(entry["makerCommission"]),
        taker_fee=Decimal(entry["takerCommission"]),
        start_price=Decimal(start_price),
        entry=entry,
    )


def _known_markets() -> dict[str, Market]:
    text = resources.files("emulator").joinpath("data/recorded_spot_markets.json").read_text()
    markets = {}
    for entry in json.loads(text):
        markets[entry["symbol"]] = _market_from_entry(entry, RECORDED_START_PRICES[entry["symbol"]])
    for base, name, price, base_dec, quote_dec, min_qty in SYNTHETIC_MARKETS:
        entry = _synthetic_entry(base, name, base_dec, quote_dec, min_qty)
        markets[entry["symbol"]] = _market_from_entry(entry, price)
    return markets


def with_rules(
    market: Market, base_decimals: int | None = None, min_notional: Decimal | None = None
) -> Market:
    """The market with a new amount precision or minimum order value, served in
    exchangeInfo too: an exchange that changed a market's rules under its clients."""
    entry = dict(market.entry)
    if base_decimals is not None:
        entry["baseAssetPrecision"] = entry["baseCommissionPrecision"] = str(base_decimals)
    if min_notional is not None:
        entry["quoteAmountPrecision"] = format(min_notional, "f")
    return _market_from_entry(entry, format(market.start_price, "f"))


GENERATED_BASE = "GEN"


def generated_markets(count: int) -> dict[str, Market]:
    """`count` more spot markets, GEN1USDT to GEN<count>USDT, the same on every run: an
    exchange with as many listings as real MEXC's (about 2,000) for a client that reads
    every market. Prices spread from 0.0001 to 99,900, each with about five significant
    digits of price and a lot that keeps an order's value small."""
    markets = {}
    for index in range(1, count + 1):
        exponent = index % 9 - 4
        price = (Decimal(100 + index * 37 % 900) / 100).scaleb(exponent)
        quote_decimals = max(1, 4 - exponent)
        base_decimals = max(0, exponent + 2)
        min_qty = format(Decimal(1).scaleb(-base_decimals), "f")
        base = f"{GENERATED_BASE}{index}"
        entry = _synthetic_entry(base, f"Generated {index}", base_decimals, quote_decimals, min_qty)
        markets[entry["symbol"]] = _market_from_entry(entry, format(price, "f"))
    return markets


def load_catalogue(generated: int = 0) -> dict[str, Market]:
    """All markets by MEXC symbol id (e.g. 'ETHUSDT'), recorded ones first, then the
    synthetic ones and `generated` more (generated_markets)."""
    return {**_known_markets(), **generated_markets(generated)}


def normalize_symbol(text: str) -> str:
    """Accept ETHUSDT, ETH_USDT, ETH-USDT and ETH/USDT for the control API."""
    return text.replace("_", "").replace("-", "").replace("/", "").upper()
