"""The accounts the monitor watches: one from the environment settings by default, or
several from the TOML file named by ACCOUNTS_FILE.

    [[accounts]]
    name = "main"
    exchange = "mexc"                   # or bybit (linear perpetuals), binanceusdm (USD-M)
    url = "http://127.0.0.1:8900"      # optional: the exchange's own when absent
    api_key_env = "MAIN_API_KEY"        # the key and secret are read from these variables,
    api_secret_env = "MAIN_API_SECRET"  # or given inline as api_key / api_secret
    quote = "USDT"                      # optional
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from core.errors import InputError

SUPPORTED_EXCHANGES = ("mexc", "bybit", "binanceusdm")
# The traded account's name (core.service.ACCOUNT): an entry of that name would be two
# accounts under one book.
TRADED_ACCOUNT = "default"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class AccountsError(InputError):
    """The accounts file cannot be used; the text names the file, the entry and the field."""


@dataclass(frozen=True)
class AccountConfig:
    name: str
    exchange: str
    url: str
    api_key: str
    api_secret: str
    quote: str = "USDT"

    def __repr__(self) -> str:  # keys never reach a log line through repr
        return f"AccountConfig(name={self.name!r}, exchange={self.exchange!r}, url={self.url!r})"


def load_accounts_file(path: Path) -> list[AccountConfig]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AccountsError(f"ACCOUNTS_FILE {path}: cannot read it ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AccountsError(f"ACCOUNTS_FILE {path}: not valid TOML ({exc})") from None
    entries = data.get("accounts")
    if not isinstance(entries, list) or not entries:
        raise AccountsError(f"ACCOUNTS_FILE {path}: needs at least one [[accounts]] table")
    accounts = [_account(path, index, entry) for index, entry in enumerate(entries, 1)]
    first: dict[str, tuple[int, str]] = {}
    for index, account in enumerate(accounts, 1):
        earlier, name = first.setdefault(account.name.casefold(), (index, account.name))
        if earlier != index:
            raise AccountsError(
                f"ACCOUNTS_FILE {path}, account #{index}: account name {account.name!r} appears "
                f"twice (account #{earlier} is {name!r}); each account needs a name of its "
                "own, whatever the case"
            )
    return accounts


def _account(path: Path, index: int, entry) -> AccountConfig:
    where = f"ACCOUNTS_FILE {path}, account #{index}"
    if not isinstance(entry, dict):
        raise AccountsError(f"{where}: must be a table")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise AccountsError(f"{where}: name must be 1-64 letters, digits, '_', '.' or '-'")
    if name.casefold() == TRADED_ACCOUNT:
        raise AccountsError(
            f"{where}: the name {name!r} is the traded account's (EXCHANGE_API_KEY); "
            "choose another name for this account"
        )
    where = f"ACCOUNTS_FILE {path}, account {name!r}"
    exchange = entry.get("exchange", "mexc")
    if exchange not in SUPPORTED_EXCHANGES:
        raise AccountsError(
            f"{where}: exchange accepts {', '.join(SUPPORTED_EXCHANGES)}, not {exchange!r}"
        )
    url = entry.get("url", "")
    if not isinstance(url, str) or (url and not re.match(r"^https?://[^\s/]+", url)):
        raise AccountsError(f"{where}: url must be an http:// or https:// URL")
    return AccountConfig(
        name=name,
        exchange=exchange,
        url=url.rstrip("/"),
        api_key=_secret(entry, "api_key", where),
        api_secret=_secret(entry, "api_secret", where),
        quote=str(entry.get("quote", "USDT")).upper(),
    )


def _secret(entry: dict, field: str, where: str) -> str:
    variable = entry.get(f"{field}_env")
    if variable is not None:
        value = os.environ.get(str(variable), "")
        if not value:
            raise AccountsError(
                f"{where}: environment variable {variable} (its {field}) is not set"
            )
        return value
    value = entry.get(field)
    if not isinstance(value, str) or not value:
        raise AccountsError(f"{where}: needs {field} or {field}_env")
    return value
