"""Who the page answers: the login (HTTP Basic) when DASHBOARD_PASSWORD is set, and the Host
names it serves. A password-less page answers only loopback names and ALLOWED_HOSTS, so a
web site elsewhere cannot reach it through a DNS name pointed at 127.0.0.1 (DNS rebinding).

Both are one `before_request` hook, which Flask accepts only before the server's first
request: `protect` comes before any warm-up request.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import re
from dataclasses import dataclass

import flask

CHALLENGE = {"WWW-Authenticate": 'Basic realm="Trading Dashboard", charset="UTF-8"'}
# a name or an IP address, IPv6 in brackets, then an optional port
_HOST = re.compile(r"^(?P<name>\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::[0-9]{1,5})?$")


@dataclass(frozen=True)
class Access:
    """The login (no password: none) and the Host names served besides loopback."""

    user: str
    password: str
    allowed_hosts: tuple[str, ...] = ()

    @property
    def checks_host(self) -> bool:
        """A login guards the page wherever it is reached; ALLOWED_HOSTS, when set, still
        narrows it."""
        return not self.password or bool(self.allowed_hosts)


def protect(server: flask.Flask, access: Access) -> None:
    @server.before_request
    def guard():
        request = flask.request
        if access.checks_host and not host_allowed(request.headers.get("Host"), access):
            return flask.Response(
                "Unknown host: this dashboard answers loopback names and ALLOWED_HOSTS only\n",
                400,
                mimetype="text/plain",
            )
        if access.password and not _logged_in(request.headers.get("Authorization"), access):
            return flask.Response("Login required\n", 401, CHALLENGE, mimetype="text/plain")
        return None


def host_allowed(header: str | None, access: Access) -> bool:
    name = host_name(header or "")
    return name is not None and (is_loopback(name) or name in access.allowed_hosts)


def host_name(header: str) -> str | None:
    """The name in a Host header, lower case, without port, brackets or a last dot; None
    when it is not one."""
    match = _HOST.match(header.strip().lower())
    return match["name"].strip("[]").rstrip(".") if match else None


def is_loopback(host: str) -> bool:
    """localhost, any 127.x or ::1 (with or without brackets)."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """The user and password of a Basic `Authorization` header; None for anything else
    (another scheme, bad base64, no colon, not UTF-8), which is asked to log in again."""
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:  # ValueError covers bad base64 (binascii.Error), non-ASCII text and non-UTF-8
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except ValueError:
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def _logged_in(header: str | None, access: Access) -> bool:
    credentials = basic_credentials(header)
    if credentials is None:
        return False
    user, password = credentials
    # both compared in constant time, always, so the time taken tells nothing
    right_user = hmac.compare_digest(user.encode(), access.user.encode())
    right_password = hmac.compare_digest(password.encode(), access.password.encode())
    return right_user and right_password
