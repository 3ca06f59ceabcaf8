"""Start-up checks of ``cloudtab-bridge serve``: a bad setting stops it with one line
naming the setting, before anything is served.

The same checks suit any host of the app (``check_settings(app.config)``); the CLI adds
the listen address, which only it binds.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from typing import Any

SETTINGS = {
    "RELAY_ADDRESS": "--relay / CLOUDTAB_BRIDGE_RELAY_ADDRESS",
    "RELAY_CA_FILE": "CLOUDTAB_BRIDGE_RELAY_CA_FILE",
    "JOB_CREATE_LIMIT": "--job-limit / CLOUDTAB_BRIDGE_JOB_CREATE_LIMIT",
    "LISTEN": "--listen / CLOUDTAB_BRIDGE_LISTEN",
}
_TARGET = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")


class StartupError(Exception):
    """A setting that keeps the bridge from starting; ``str()`` is the one line to print."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"{message} ({SETTINGS.get(setting, 'CLOUDTAB_BRIDGE_' + setting)})")
        self.setting = setting


def check_settings(config: Mapping[str, Any]) -> None:
    """The relay address, its CA file and the rate limit.

    Raises:
        StartupError: the first bad one.
    """
    address = str(config.get("RELAY_ADDRESS") or "")
    match = _TARGET.match(address)
    if not match or not 0 < int(match.group(2)) < 65536:
        raise StartupError("RELAY_ADDRESS", f"expected the relay as HOST:PORT, got {address!r}")
    ca_file = config.get("RELAY_CA_FILE")
    if ca_file:
        try:
            with open(ca_file, "rb") as handle:
                pem = handle.read()
        except FileNotFoundError:
            raise StartupError("RELAY_CA_FILE", f"no such file: {ca_file}") from None
        except OSError as exc:
            raise StartupError("RELAY_CA_FILE", f"cannot read {ca_file}: {exc.strerror}") from None
        if b"-----BEGIN CERTIFICATE-----" not in pem:
            raise StartupError("RELAY_CA_FILE", f"{ca_file} holds no PEM certificate")
    limit = config.get("JOB_CREATE_LIMIT")
    if limit:
        from limits import parse_many

        try:
            parse_many(str(limit))
        except ValueError:
            raise StartupError("JOB_CREATE_LIMIT", f"not a rate limit like '10 per minute': {limit!r}") from None


def check_listen(host: str, port: int) -> None:
    """Bind-test the listen address.

    Raises:
        StartupError: in use, or not an address of this machine.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _name, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        raise StartupError("LISTEN", f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
