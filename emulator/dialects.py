"""The dialects an emulator can speak, by the name `--dialect` takes."""

from emulator import auth, binance_api, binance_errors, bybit_api, bybit_auth, bybit_errors
from emulator.dialect import Dialect, SignedRequest
from emulator.engine import Engine
from emulator.errors import MexcError
from emulator.markets import load_catalogue
from emulator.mexc_api import ENDPOINTS as MEXC_ENDPOINTS
from emulator.perp_engine import PerpEngine
from emulator.perp_markets import load_perp_catalogue


def _mexc_authenticate(accounts: dict, request: SignedRequest):
    api_key = request.headers.get("X-MEXC-APIKEY")
    return auth.authenticate(
        accounts, api_key, request.params, request.raw_query, request.raw_body, request.now_ms
    )


def _binance_authenticate(accounts: dict, request: SignedRequest):
    """Binance signs the query string plus the body exactly as MEXC does; only the header
    differs, and the MEXC codes raised are renamed by binance_errors on the way out."""
    api_key = request.headers.get("X-MBX-APIKEY")
    return auth.authenticate(
        accounts, api_key, request.params, request.raw_query, request.raw_body, request.now_ms
    )


def _as_is(exc: MexcError) -> MexcError:
    return exc


def _mexc_body(exc: MexcError, now_ms: int) -> dict:
    return exc.body()


MEXC = Dialect(
    name="mexc",
    endpoints=MEXC_ENDPOINTS,
    api_key_header="X-MEXC-APIKEY",
    authenticate=_mexc_authenticate,
    translate=_as_is,
    error_body=_mexc_body,
    new_engine=lambda seed, specs, generated=0: Engine(load_catalogue(generated), seed, specs),
)

BYBIT = Dialect(
    name="bybit",
    endpoints=bybit_api.ENDPOINTS,
    api_key_header="X-BAPI-API-KEY",
    authenticate=bybit_auth.authenticate,
    translate=bybit_errors.translate,
    error_body=bybit_errors.error_body,
    new_engine=lambda seed, specs: PerpEngine(
        load_perp_catalogue(), seed, specs, "uuid", fired_keeps_id=True
    ),
)

BINANCE_USDM = Dialect(
    name="binanceusdm",
    endpoints=binance_api.ENDPOINTS,
    api_key_header="X-MBX-APIKEY",
    authenticate=_binance_authenticate,
    translate=binance_errors.translate,
    error_body=_mexc_body,
    new_engine=lambda seed, specs: PerpEngine(
        load_perp_catalogue(), seed, specs, "int", fee_token="BNB"
    ),
)

DIALECTS = {dialect.name: dialect for dialect in (MEXC, BYBIT, BINANCE_USDM)}
