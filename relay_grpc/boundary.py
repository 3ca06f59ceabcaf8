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

    Only the message type's string, message and map fields are read (the plan of each
    type is computed once), so a bytes payload (an upload chunk) is never copied here.

    Raises:
        RelayError: INVALID_REQUEST "<field> contains a control character" (field in the metadata).
    """
    for kind, name in _plan(message.DESCRIPTOR):
        if kind == _STRING:
            text = getattr(message, name)
            if text and _CONTROL.search(text):
                raise _control(prefix + name)
        elif kind == _STRINGS:
            for text in getattr(message, name):
                if _CONTROL.search(text):
                    raise _control(prefix + name)
        elif kind == _MESSAGE:
            if message.HasField(name):
                check_message(getattr(message, name), prefix + name + ".")
        elif kind == _MESSAGES:
            for item in getattr(message, name):
                check_message(item, prefix + name + ".")
        else:  # a map
            for key, item in getattr(message, name).items():
                if isinstance(key, str) and _CONTROL.search(key):
                    raise _control(prefix + name)
                if isinstance(item, Message):
                    check_message(item, prefix + name + ".")


_STRING, _STRINGS, _MESSAGE, _MESSAGES, _MAP = range(5)
_PLANS: dict[str, tuple[tuple[int, str], ...]] = {}


def _plan(descriptor: Any) -> tuple[tuple[int, str], ...]:
    """(kind, field name) of every field of this message type that can hold a string."""
    plan = _PLANS.get(descriptor.full_name)
    if plan is None:
        steps: list[tuple[int, str]] = []
        for field in descriptor.fields:
            repeated = _is_repeated(field)
            if field.type == FieldDescriptor.TYPE_STRING:
                steps.append((_STRINGS if repeated else _STRING, field.name))
            elif field.type == FieldDescriptor.TYPE_MESSAGE:
                if field.message_type is not None and field.message_type.GetOptions().map_entry:
                    steps.append((_MAP, field.name))
                else:
                    steps.append((_MESSAGES if repeated else _MESSAGE, field.name))
        plan = _PLANS[descriptor.full_name] = tuple(steps)
    return plan


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
