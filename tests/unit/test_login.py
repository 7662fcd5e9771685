"""The login's parts: Host names, Basic credentials, ALLOWED_HOSTS, and the secrets every
log line masks (the accounts file's keys and the Basic credential among them)."""

from __future__ import annotations

import base64
import logging

import pytest

from core.config import Settings, SettingsError, load_settings
from core.operations import logs
from web.login import Access, basic_credentials, host_allowed, host_name, is_loopback


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("127.0.0.1:8050", "127.0.0.1"),
        ("LOCALHOST", "localhost"),
        ("localhost.:80", "localhost"),
        ("[::1]:8050", "::1"),
        ("dash.example", "dash.example"),
        ("", None),
        ("a b", None),
        ("evil.example:80:80", None),
        ("user@evil.example", None),
        ("[::1", None),
    ],
)
def test_the_name_of_a_host_header(header, name):
    assert host_name(header) == name


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.200.1.9", "::1", "[::1]"])
def test_loopback_names(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.1", "localhost.evil.example", ""])
def test_names_beyond_loopback(host):
    assert not is_loopback(host)


def test_allowed_hosts_add_to_loopback():
    access = Access("trader", "", ("dash.example",))
    assert host_allowed("dash.example:443", access)
    assert host_allowed("127.0.0.1:8050", access)
    assert not host_allowed("evil.example", access)
    assert not host_allowed(None, access)


def test_a_login_alone_checks_no_host_and_allowed_hosts_still_narrow_it():
    assert not Access("trader", "pw").checks_host
    assert Access("trader", "pw", ("dash.example",)).checks_host
    assert Access("trader", "").checks_host


@pytest.mark.parametrize(
    ("header", "credentials"),
    [
        (f"Basic {b64(b'trader:p:w')}", ("trader", "p:w")),
        (f"basic  {b64('trader:pässword'.encode())}", ("trader", "pässword")),
        ("Bearer abc", None),
        ("Basic", None),
        ("Basic !!!", None),
        (f"Basic {b64(b'no-colon')}", None),
        ("Basic " + b64(b"trader:\xff"), None),
        ("Basic déjà", None),
        (None, None),
    ],
)
def test_basic_credentials(header, credentials):
    assert basic_credentials(header) == credentials


def test_allowed_hosts_are_read_as_host_names(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", " Dash.Example. , [2001:db8::1],,dash.example")
    assert load_settings().allowed_hosts == ("dash.example", "2001:db8::1")
    assert load_settings(ALLOWED_HOSTS="").allowed_hosts == ()


def test_a_bad_allowed_hosts_is_named():
    with pytest.raises(SettingsError) as raised:
        load_settings(ALLOWED_HOSTS="http://dash.example/")
    assert str(raised.value).startswith("Setting ALLOWED_HOSTS accepts comma-separated")


def test_the_secrets_cover_the_login_and_the_accounts_file(tmp_path, monkeypatch):
    monkeypatch.setenv("ACCT_KEY", "acct-key-4c1e")
    monkeypatch.setenv("ACCT_SECRET", "acct-secret-77d0")
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        '[[accounts]]\nname = "a"\napi_key_env = "ACCT_KEY"\napi_secret_env = "ACCT_SECRET"\n'
        '[[accounts]]\nname = "b"\napi_key = "inline-key-9e"\napi_secret = "inline-secret-3b"\n'
    )
    settings = load_settings(DASHBOARD_PASSWORD="hunter2hunter2", ACCOUNTS_FILE=str(accounts))
    secrets = set(settings.secrets)
    assert {"acct-key-4c1e", "acct-secret-77d0", "inline-key-9e", "inline-secret-3b"} <= secrets
    assert {"hunter2hunter2", b64(b"trader:hunter2hunter2")} <= secrets


def test_an_unusable_accounts_file_gives_no_secrets_and_no_error(tmp_path):
    settings = load_settings(ACCOUNTS_FILE=str(tmp_path / "missing.toml"))
    assert [s for s in settings.secrets if s] == []


def masked(secrets: list[str], message: str) -> str:
    record = logging.makeLogRecord({"msg": "%s", "args": (message,)})
    logs.MaskSecrets(secrets).filter(record)
    return record.getMessage()


def test_any_basic_credential_is_masked_the_challenge_is_not():
    headers = "{'Authorization': 'Basic dHJhZGVyOndyb25n'}"
    assert masked([], headers) == "{'Authorization': 'Basic ***'}"
    assert masked([], "Basic dHJhZGVyOn...") == "Basic ***..."  # cut short by Celery
    challenge = 'WWW-Authenticate: Basic realm="Trading Dashboard"'
    assert masked([], challenge) == challenge
