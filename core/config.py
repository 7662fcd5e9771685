"""Settings from the environment and an optional `.env`, validated once at start-up.

A bad value raises `SettingsError` with one line that names the setting and what it
accepts; a secret's value never appears in that line.
"""

from __future__ import annotations

import base64
import re
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.accounts.accounts_file import AccountsError, load_accounts_file
from core.errors import InputError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'trading.db'}"
_SYMBOL = re.compile(r"^[A-Z0-9]{1,20}/[A-Z0-9]{1,20}$")
_HOST_NAME = re.compile(r"^[a-z0-9_.:-]{1,253}$")

# What each setting accepts, in the words the start-up error uses.
ACCEPTS = {
    "TRADING_MODE": "sim or live",
    "EXCHANGE": "mexc",
    "EXCHANGE_URL": "an http:// or https:// URL, or empty for the exchange's own",
    "EXCHANGE_API_KEY": "the exchange API key",
    "EXCHANGE_API_SECRET": "the exchange API secret",
    "DATABASE_URL": "an SQLAlchemy URL such as sqlite:///data/trading.db",
    "SYMBOLS": "comma-separated unified symbols such as ETH/USDT,BTC/USDT",
    "SYNC_INTERVAL_SECONDS": "a whole number of seconds from 5 to 86400",
    "HOST": "a host name or IP address to bind",
    "ALLOWED_HOSTS": "comma-separated host names or IP addresses the page answers besides loopback, or empty",
    "PORT": "a whole number from 1 to 65535",
    "DASHBOARD_USER": "a user name for the dashboard login",
    "DASHBOARD_PASSWORD": "a password for the dashboard login",
    "SIM_STARTING_BALANCE": "a positive amount of the quote asset, such as 10000",
    "MAX_ORDER_NOTIONAL": "a positive amount of the quote asset",
    "MAX_SLIPPAGE": "a fraction between 0 and 0.05, such as 0.005",
    "SYNC_POLICY": "report, adopt or enforce",
    "STALE_PRICE_SECONDS": "a whole number of seconds from 1 to 86400",
    "EXCHANGE_TIMEOUT_MS": "a whole number of milliseconds from 100 to 120000",
    "RECV_WINDOW_MS": "a whole number of milliseconds from 100 to 60000 (MEXC's maximum)",
    "ACCOUNTS_FILE": "the path of a TOML file of [[accounts]], or empty for the single account above",
    "REDIS_URL": "a redis:// URL (background trades on Celery, a shared cache), or empty",
    "STOP_WATCH_SECONDS": "a number of seconds from 0.2 to 60",
    "ALERT_URLS": "apprise URLs (json://, tgram://, slack://, mailto://, ...) separated by commas or spaces",
    "ALERT_TIMEOUT_SECONDS": "a number of seconds from 1 to 60",
    "ALERT_UNREACHABLE_SECONDS": "a whole number of seconds from 10 to 86400",
    "REQUIRE_STOP_LOSS_PCT": "empty, or a percentage above 0 and at most 50, such as 5",
    "LOG_LEVEL": "DEBUG, INFO, WARNING or ERROR",
    "LOG_FORMAT": "text or json",
}
SECRET_SETTINGS = {
    "EXCHANGE_API_KEY",
    "EXCHANGE_API_SECRET",
    "DASHBOARD_PASSWORD",
    "ALERT_URLS",
    "REDIS_URL",
}


class SettingsError(InputError):
    """A setting has a value the app cannot start with."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    TRADING_MODE: Literal["sim", "live"] = "sim"
    EXCHANGE: Literal["mexc"] = "mexc"
    EXCHANGE_URL: str = ""
    EXCHANGE_API_KEY: SecretStr = SecretStr("")
    EXCHANGE_API_SECRET: SecretStr = SecretStr("")
    DATABASE_URL: str = DEFAULT_DATABASE_URL
    SYMBOLS: str = "ETH/USDT,BTC/USDT"
    SYNC_INTERVAL_SECONDS: int = Field(30, ge=5, le=86400)
    HOST: str = Field("127.0.0.1", min_length=1)
    PORT: int = Field(8050, ge=1, le=65535)
    ALLOWED_HOSTS: str = ""
    DASHBOARD_USER: str = Field("trader", min_length=1)
    DASHBOARD_PASSWORD: SecretStr = SecretStr("")
    SIM_STARTING_BALANCE: Decimal = Field(Decimal(10000), gt=0, allow_inf_nan=False)
    MAX_ORDER_NOTIONAL: Decimal = Field(Decimal(50000), gt=0, allow_inf_nan=False)
    MAX_SLIPPAGE: Decimal = Field(Decimal("0.005"), gt=0, le=Decimal("0.05"), allow_inf_nan=False)
    SYNC_POLICY: Literal["report", "adopt", "enforce"] = "adopt"
    STALE_PRICE_SECONDS: int = Field(300, ge=1, le=86400)
    ACCOUNTS_FILE: str = ""
    REDIS_URL: SecretStr = SecretStr("")
    EXCHANGE_TIMEOUT_MS: int = Field(10000, ge=100, le=120000)
    RECV_WINDOW_MS: int = Field(5000, ge=100, le=60000)
    STOP_WATCH_SECONDS: float = Field(1.0, ge=0.2, le=60)
    ALERT_URLS: SecretStr = SecretStr("")
    ALERT_TIMEOUT_SECONDS: float = Field(5.0, ge=1, le=60)
    ALERT_UNREACHABLE_SECONDS: int = Field(120, ge=10, le=86400)
    REQUIRE_STOP_LOSS_PCT: Decimal | None = Field(None, gt=0, le=50, allow_inf_nan=False)
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    LOG_FORMAT: Literal["text", "json"] = "text"

    @field_validator("EXCHANGE_URL")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("not a URL")
        return value

    @field_validator("REQUIRE_STOP_LOSS_PCT", mode="before")
    @classmethod
    def _empty_is_none(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("LOG_LEVEL", mode="before")
    @classmethod
    def _level(cls, value):
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("LOG_FORMAT", mode="before")
    @classmethod
    def _lower(cls, value):
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("REDIS_URL")
    @classmethod
    def _redis(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value().strip()
        if url and not re.match(r"^rediss?://[^\s/]+", url):
            raise ValueError("not a redis URL")
        return SecretStr(url)

    @field_validator("ALLOWED_HOSTS")
    @classmethod
    def _hosts(cls, value: str) -> str:
        """Names as a Host header carries them, lower case, without brackets or a last dot."""
        names = [n.strip().lower().strip("[]").rstrip(".") for n in value.split(",")]
        names = [n for n in names if n]
        if any(not _HOST_NAME.match(n) for n in names):
            raise ValueError("bad host list")
        return ",".join(dict.fromkeys(names))

    @field_validator("SYMBOLS")
    @classmethod
    def _symbols(cls, value: str) -> str:
        symbols = [s.strip().upper() for s in value.split(",") if s.strip()]
        if not symbols or any(not _SYMBOL.match(s) for s in symbols):
            raise ValueError("bad symbol list")
        return ",".join(dict.fromkeys(symbols))

    @property
    def symbols(self) -> list[str]:
        return self.SYMBOLS.split(",")

    @property
    def allowed_hosts(self) -> tuple[str, ...]:
        return tuple(self.ALLOWED_HOSTS.split(",")) if self.ALLOWED_HOSTS else ()

    @property
    def secrets(self) -> list[str]:
        """Every secret value a log line must never show: the settings' own, the keys of
        ACCOUNTS_FILE's accounts, and the login as a Basic `Authorization` header carries
        it (base64 of `user:password`)."""
        secrets = (
            self.EXCHANGE_API_KEY,
            self.EXCHANGE_API_SECRET,
            self.DASHBOARD_PASSWORD,
            self.ALERT_URLS,
            self.REDIS_URL,
        )
        values = [secret.get_secret_value() for secret in secrets]
        # each alert URL on its own too (it carries tokens), in case one is logged alone
        values += self.ALERT_URLS.get_secret_value().replace(",", " ").split()
        password = self.DASHBOARD_PASSWORD.get_secret_value()
        if password:
            login = f"{self.DASHBOARD_USER}:{password}"
            values += [login, base64.b64encode(login.encode()).decode()]
        return [*values, *self._account_secrets()]

    def _account_secrets(self) -> list[str]:
        """A file that cannot be read gives none: its accounts are then never used, and
        loading them says why."""
        if not self.ACCOUNTS_FILE:
            return []
        try:
            accounts = load_accounts_file(Path(self.ACCOUNTS_FILE))
        except AccountsError:
            return []
        return [value for a in accounts for value in (a.api_key, a.api_secret)]

    @property
    def has_keys(self) -> bool:
        return bool(
            self.EXCHANGE_API_KEY.get_secret_value() and self.EXCHANGE_API_SECRET.get_secret_value()
        )

    @property
    def uses_demo_exchange(self) -> bool:
        """No URL and no keys: the app runs its own local demo exchange."""
        return not self.EXCHANGE_URL and not self.has_keys


def load_settings(**overrides) -> Settings:
    """Read and validate the settings; `overrides` win over the environment (tests, CLI flags)."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else "settings"
    accepts = ACCEPTS.get(name, "a valid value")
    shown = "" if name in SECRET_SETTINGS else f" (got {str(error.get('input'))!r})"
    return f"Setting {name} accepts {accepts}{shown}"
