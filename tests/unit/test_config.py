"""Settings from the environment and `.env`: defaults, one-line errors, secrets kept out."""
# ruff: noqa: SIM300  (setting names are upper case, which SIM300 mistakes for constants)

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.config import (
    ACCEPTS,
    DEFAULT_DATABASE_URL,
    SECRET_SETTINGS,
    Settings,
    SettingsError,
    load_settings,
)

PROPS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No setting leaks in from the developer's shell or the project's own .env."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def error_of(**values) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(**values)
    return str(caught.value)


# --- defaults -------------------------------------------------------------------------


def test_defaults_start_a_safe_demo():
    s = load_settings()
    assert s.TRADING_MODE == "sim"
    assert s.EXCHANGE == "mexc"
    assert s.EXCHANGE_URL == ""
    assert s.DATABASE_URL == DEFAULT_DATABASE_URL
    assert s.symbols == ["ETH/USDT", "BTC/USDT"]
    assert s.SYNC_INTERVAL_SECONDS == 30
    assert (s.HOST, s.PORT) == ("127.0.0.1", 8050)
    assert s.SYNC_POLICY == "adopt"  # the periodic check never trades unless asked to
    assert s.STALE_PRICE_SECONDS == 300
    assert not s.has_keys
    assert s.uses_demo_exchange


def test_money_settings_are_decimal():
    s = load_settings()
    assert s.SIM_STARTING_BALANCE == Decimal(10000)
    assert s.MAX_ORDER_NOTIONAL == Decimal(50000)
    assert s.MAX_SLIPPAGE == Decimal("0.005")
    for value in (s.SIM_STARTING_BALANCE, s.MAX_ORDER_NOTIONAL, s.MAX_SLIPPAGE):
        assert isinstance(value, Decimal)
    s = load_settings(MAX_SLIPPAGE="0.0015", SIM_STARTING_BALANCE="1234.5678")
    assert s.MAX_SLIPPAGE == Decimal("0.0015")
    assert s.SIM_STARTING_BALANCE == Decimal("1234.5678")


def test_every_setting_says_what_it_accepts():
    assert set(Settings.model_fields) == set(ACCEPTS)
    assert SECRET_SETTINGS <= set(ACCEPTS)


# --- sources --------------------------------------------------------------------------


def test_environment_is_read(monkeypatch):
    monkeypatch.setenv("TRADING_MODE", "live")
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("MAX_SLIPPAGE", "0.01")
    s = load_settings()
    assert (s.TRADING_MODE, s.PORT, s.MAX_SLIPPAGE) == ("live", 9000, Decimal("0.01"))


def test_names_are_case_sensitive(monkeypatch):
    monkeypatch.setenv("port", "9000")
    assert load_settings().PORT == 8050


def test_dotenv_file_in_the_working_directory_is_read(clean_environment):
    (clean_environment / ".env").write_text(
        "# comment\nTRADING_MODE=live\nSYMBOLS=sol/usdt\nEXCHANGE_API_KEY=k-123\n"
        "EXCHANGE_API_SECRET=s-456\nUNRELATED=ignored\n",
        encoding="utf-8",
    )
    s = load_settings()
    assert s.TRADING_MODE == "live"
    assert s.symbols == ["SOL/USDT"]
    assert s.has_keys
    assert not s.uses_demo_exchange
    assert s.EXCHANGE_API_SECRET.get_secret_value() == "s-456"


def test_environment_beats_dotenv_and_overrides_beat_both(clean_environment, monkeypatch):
    (clean_environment / ".env").write_text("PORT=7000\nHOST=0.0.0.0\n", encoding="utf-8")
    monkeypatch.setenv("PORT", "7100")
    s = load_settings()
    assert (s.PORT, s.HOST) == (7100, "0.0.0.0")
    assert load_settings(PORT=7200).PORT == 7200


def test_bad_value_in_dotenv_is_reported_like_any_other(clean_environment):
    (clean_environment / ".env").write_text("SYNC_POLICY=sometimes\n", encoding="utf-8")
    assert error_of() == "Setting SYNC_POLICY accepts report, adopt or enforce (got 'sometimes')"


# --- errors: one line, naming the setting and what it accepts ------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TRADING_MODE", "paper"),
        ("TRADING_MODE", "LIVE"),
        ("EXCHANGE", "binance"),
        ("EXCHANGE_URL", "ftp://example.com"),
        ("EXCHANGE_URL", "localhost:8000"),
        ("SYMBOLS", "ETHUSDT"),
        ("SYMBOLS", " , "),
        ("SYMBOLS", "ETH/USDT,BTC-USDT"),
        ("SYNC_INTERVAL_SECONDS", "4"),
        ("SYNC_INTERVAL_SECONDS", "86401"),
        ("SYNC_INTERVAL_SECONDS", "1.5"),
        ("SYNC_INTERVAL_SECONDS", "soon"),
        ("HOST", ""),
        ("PORT", "0"),
        ("PORT", "65536"),
        ("PORT", "http"),
        ("DASHBOARD_USER", ""),
        ("SIM_STARTING_BALANCE", "0"),
        ("SIM_STARTING_BALANCE", "-5"),
        ("SIM_STARTING_BALANCE", "NaN"),
        ("SIM_STARTING_BALANCE", "lots"),
        ("MAX_ORDER_NOTIONAL", "Infinity"),
        ("MAX_ORDER_NOTIONAL", "0"),
        ("MAX_SLIPPAGE", "0"),
        ("MAX_SLIPPAGE", "0.06"),
        ("MAX_SLIPPAGE", "5%"),
        ("SYNC_POLICY", "fix"),
        ("STALE_PRICE_SECONDS", "0"),
    ],
)
def test_bad_value_gives_one_line_naming_the_setting(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    message = error_of()
    assert "\n" not in message
    assert message == f"Setting {name} accepts {ACCEPTS[name]} (got {value!r})"


def test_error_hides_the_validation_traceback():
    with pytest.raises(SettingsError) as caught:
        load_settings(PORT="x")
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    assert isinstance(caught.value, ValueError)


def test_boundaries_are_accepted():
    s = load_settings(
        SYNC_INTERVAL_SECONDS="5",
        PORT="65535",
        MAX_SLIPPAGE="0.05",
        STALE_PRICE_SECONDS="86400",
    )
    assert (s.SYNC_INTERVAL_SECONDS, s.PORT, s.MAX_SLIPPAGE) == (5, 65535, Decimal("0.05"))
    assert load_settings(PORT="1").PORT == 1


# --- secrets ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SECRET_SETTINGS))
def test_a_bad_secret_is_named_but_never_shown(name):
    message = error_of(**{name: 987654321})  # not a string: rejected
    assert message == f"Setting {name} accepts {ACCEPTS[name]}"
    assert "987654321" not in message


def test_secrets_never_reach_an_error_about_another_setting(monkeypatch):
    monkeypatch.setenv("EXCHANGE_API_KEY", "mx0-KEY-abcdef")
    monkeypatch.setenv("EXCHANGE_API_SECRET", "SECRET-123456")
    monkeypatch.setenv("DASHBOARD_PASSWORD", "hunter2hunter2")
    monkeypatch.setenv("PORT", "not-a-port")
    message = error_of()
    assert message.startswith("Setting PORT accepts")
    for secret in ("mx0-KEY-abcdef", "SECRET-123456", "hunter2hunter2"):
        assert secret not in message


def test_secrets_do_not_show_in_the_settings_repr(monkeypatch):
    monkeypatch.setenv("EXCHANGE_API_SECRET", "SECRET-123456")
    monkeypatch.setenv("DASHBOARD_PASSWORD", "hunter2hunter2")
    s = load_settings()
    assert "SECRET-123456" not in repr(s)
    assert "hunter2hunter2" not in str(s)
    assert "SECRET-123456" not in s.model_dump_json()


secret_text = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="'\"\\#"),
    min_size=6,
    max_size=30,
)


@PROPS
@given(key=secret_text, secret=secret_text, bad_port=st.integers(65536, 10**9))
def test_no_secret_in_any_error_message(key, secret, bad_port):
    message = error_of(EXCHANGE_API_KEY=key, EXCHANGE_API_SECRET=secret, PORT=bad_port)
    assert message == f"Setting PORT accepts {ACCEPTS['PORT']} (got '{bad_port}')"
    assert key not in message
    assert secret not in message


# --- normalisation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "symbols"),
    [
        ("eth/usdt", ["ETH/USDT"]),
        (" eth/usdt , Btc/Usdt ", ["ETH/USDT", "BTC/USDT"]),
        ("ETH/USDT,,BTC/USDT,", ["ETH/USDT", "BTC/USDT"]),
        ("ETH/USDT,eth/usdt,BTC/USDT,ETH/USDT", ["ETH/USDT", "BTC/USDT"]),  # order kept
        ("1INCH/USDT", ["1INCH/USDT"]),
    ],
)
def test_symbols_are_normalised(raw, symbols):
    s = load_settings(SYMBOLS=raw)
    assert s.symbols == symbols
    assert s.SYMBOLS == ",".join(symbols)


@PROPS
@given(
    pairs=st.lists(
        st.tuples(
            st.from_regex(r"[A-Za-z0-9]{1,8}", fullmatch=True),
            st.sampled_from(["usdt", "USDC", "Btc"]),
        ),
        min_size=1,
        max_size=6,
    ),
    pad=st.sampled_from(["", " ", "  "]),
)
def test_symbol_normalisation_properties(pairs, pad):
    raw = ",".join(f"{pad}{b}/{q}{pad}" for b, q in pairs)
    s = load_settings(SYMBOLS=raw)
    expected = list(dict.fromkeys(f"{b}/{q}".upper() for b, q in pairs))
    assert s.symbols == expected
    assert load_settings(SYMBOLS=s.SYMBOLS).symbols == expected  # idempotent


def test_exchange_url_is_trimmed():
    assert load_settings(EXCHANGE_URL=" http://127.0.0.1:8000/ ").EXCHANGE_URL == (
        "http://127.0.0.1:8000"
    )
    assert load_settings(EXCHANGE_URL="https://api.mexc.com").EXCHANGE_URL == (
        "https://api.mexc.com"
    )
    assert load_settings(EXCHANGE_URL="   ").EXCHANGE_URL == ""


def test_demo_exchange_only_without_url_and_keys():
    assert not load_settings(EXCHANGE_URL="http://127.0.0.1:8000").uses_demo_exchange
    keyed = load_settings(EXCHANGE_API_KEY="k", EXCHANGE_API_SECRET="s")
    assert keyed.has_keys and not keyed.uses_demo_exchange
    half = load_settings(EXCHANGE_API_KEY="k")  # a key without its secret is no keys
    assert not half.has_keys
