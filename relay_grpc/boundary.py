"""The relay's boundary: what a request may carry before it reaches the domain or the database.

* Every string field of every request message (nested messages and the
  messages of a client stream included) must be free of control characters
  (NUL, C0, DEL, C1) and of lone surrogates: INVALID_ARGUMENT naming the field.
* Concurrent client-streaming calls (uploads) per client address are capped
  (IPv6 by /64): RESOURCE_EXHAUSTED beyond ``max_uploads_per_peer``. Server
  streams are not capped here: a bridge watches thousands of jobs from one
  address, and a kiosk test holds thousands of subscriptions.

``relay_grpc.interceptors`` applies it inside the
error mapping, so its RelayErrors become status codes like the servicers' do.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from relay_grpc.errors import Reason, RelayError
from relay_grpc.ratelimit import peer_host

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def check_message(message: Message, prefix: str = "") -> None:
    """Raise if any string in ``message`` holds a control character.

    Raises:
        RelayError: INVALID_REQUEST "<field> contains a control character" (field in the metadata).
    """
    for field, value in message.ListFields():
        name = prefix + field.name
        if field.type == FieldDescriptor.TYPE_STRING:
            values = value if _is_repeated(field) else [value]
            for text in values:
                if _CONTROL.search(text):
                    raise _control(name)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.message_type is not None and field.message_type.GetOptions().map_entry:
                for key, item in value.items():
                    if isinstance(key, str) and _CONTROL.search(key):
                        raise _control(name)
                    if isinstance(item, Message):
                        check_message(item, name + ".")
            elif _is_repeated(field):
                for item in value:
                    check_message(item, name + ".")
            else:
                check_message(value, name + ".")


def _control(name: str) -> RelayError:
    return RelayError(Reason.INVALID_REQUEST, f"{name} contains a control character", field=name)


def _is_repeated(field: FieldDescriptor) -> bool:
    repeated = getattr(field, "is_repeated", None)
    if repeated is None:
        repeated = getattr(field, "label", None) == FieldDescriptor.LABEL_REPEATED
    return bool(repeated)


def peer_key(peer: str) -> str:
    """The address a limit counts: the host, or its /64 network for IPv6."""
    host = peer_host(peer)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return host


class PeerCalls:
    """Concurrent calls per peer key, capped."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._active: Counter[str] = Counter()

    def enter(self, key: str) -> None:
        """Raises RelayError LIMIT_EXCEEDED when ``key`` already has ``limit`` calls."""
        if self.limit > 0 and self._active[key] >= self.limit:
            raise RelayError(
                Reason.LIMIT_EXCEEDED,
                f"too many concurrent uploads from one address (limit {self.limit})",
                limit="max_uploads_per_peer",
                max=self.limit,
            )
        self._active[key] += 1

    def leave(self, key: str) -> None:
        self._active[key] -= 1
        if self._active[key] <= 0:
            del self._active[key]


async def checked(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """The messages of a client stream, each checked with :func:`check_message`."""
    async for request in requests:
        check_message(request)
        yield request
