"""ACCOUNTS_FILE is refused at load when an entry would share a book with another: the
traded account's name, or a name given twice. The refusal names the file, the entry and why."""

from __future__ import annotations

import pytest

from core.accounts.accounts_file import TRADED_ACCOUNT, AccountsError, load_accounts_file
from core.service import ACCOUNT


def entry(name: str) -> str:
    return (
        f'[[accounts]]\nname = "{name}"\nurl = "http://127.0.0.1:8900"\n'
        'api_key = "key"\napi_secret = "secret"\n\n'
    )


def write(tmp_path, *names: str):
    path = tmp_path / "accounts.toml"
    path.write_text("".join(entry(name) for name in names))
    return path


def test_the_reserved_name_is_the_traded_accounts():
    assert TRADED_ACCOUNT == ACCOUNT


@pytest.mark.parametrize("name", ["default", "Default", "DEFAULT"])
def test_an_entry_named_like_the_traded_account_is_refused(tmp_path, name):
    path = write(tmp_path, "main", name)
    with pytest.raises(AccountsError) as refused:
        load_accounts_file(path)
    message = str(refused.value)
    assert message == (
        f"ACCOUNTS_FILE {path}, account #2: the name {name!r} is the traded account's "
        "(EXCHANGE_API_KEY); choose another name for this account"
    )


def test_a_name_given_twice_is_refused_naming_both_entries(tmp_path):
    path = write(tmp_path, "main", "desk", "main")
    with pytest.raises(AccountsError) as refused:
        load_accounts_file(path)
    assert str(refused.value) == (
        f"ACCOUNTS_FILE {path}, account #3: account name 'main' appears twice (account #1 is "
        "'main'); each account needs a name of its own, whatever the case"
    )


def test_names_differing_only_in_case_are_the_same_name(tmp_path):
    path = write(tmp_path, "desk", "Desk")
    with pytest.raises(
        AccountsError, match=r"#2: account name 'Desk' appears twice \(account #1 is 'desk'\)"
    ):
        load_accounts_file(path)


def test_distinct_names_load_in_order(tmp_path):
    accounts = load_accounts_file(write(tmp_path, "main", "desk", "default-2"))
    assert [a.name for a in accounts] == ["main", "desk", "default-2"]


def test_a_name_with_a_trailing_newline_is_not_a_name(tmp_path):
    path = write(tmp_path, "main\\n")  # TOML's escape: the name is "main" and a newline
    with pytest.raises(AccountsError, match="account #1: name must be 1-64 letters"):
        load_accounts_file(path)
