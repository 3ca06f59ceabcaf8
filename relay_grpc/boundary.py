"""The relay's boundary: what a request may carry before it reaches the domain or the database.

* Every string field of every request message (nested messages and the
  messages of a client stream included) must be free of control characters
  (NUL, C0, DEL, C1) and of lone surrogates: INVALID_ARGUMENT naming the field.
* Concurrent client-streaming calls (uploads) per client address are capped
  (IPv6 by /64): RESOURCE_EXHAUSTED beyond ``max_uploads_per_peer``. Server
  streams are not capped here: a bridge watches thousands of jobs from one
  address, and a kiosk test holds thousands of subscriptions.

It runs inside the ErrorInterceptor, so its RelayErrors become status codes
like the servicers' do.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from grpc import aio

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
            raise RelayError(Reason.LIMIT_EXCEEDED,
                             f"too many concurrent uploads from one address (limit {self.limit})",
                             limit="max_uploads_per_peer", max=self.limit)
        self._active[key] += 1

    def leave(self, key: str) -> None:
        self._active[key] -= 1
        if self._active[key] <= 0:
            del self._active[key]


class BoundaryInterceptor(aio.ServerInterceptor):
    """String validation for every CloudTab RPC; the per-peer cap for upload streams."""

    def __init__(self, max_uploads_per_peer: int) -> None:
        self.calls = PeerCalls(max_uploads_per_peer)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or not handler_call_details.method.startswith("/cloudtab.v1."):
            return handler
        return self._wrap(handler)

    def _wrap(self, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        calls = self.calls
        des, ser = handler.request_deserializer, handler.response_serializer
        if handler.unary_unary:
            inner_uu = handler.unary_unary

            async def unary_unary(request: Any, context: aio.ServicerContext) -> Any:
                check_message(request)
                return await inner_uu(request, context)

            return grpc.unary_unary_rpc_method_handler(unary_unary, des, ser)
        if handler.stream_unary:
            inner_su = handler.stream_unary

            async def stream_unary(requests: AsyncIterator[Any], context: aio.ServicerContext) -> Any:
                key = peer_key(context.peer() or "")
                calls.enter(key)
                try:
                    return await inner_su(_checked(requests), context)
                finally:
                    calls.leave(key)

            return grpc.stream_unary_rpc_method_handler(stream_unary, des, ser)
        if handler.unary_stream:
            inner_us = handler.unary_stream

            async def unary_stream(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
                check_message(request)
                async for response in inner_us(request, context):
                    yield response

            return grpc.unary_stream_rpc_method_handler(unary_stream, des, ser)
        inner_ss = handler.stream_stream

        async def stream_stream(requests: AsyncIterator[Any], context: aio.ServicerContext) -> AsyncIterator[Any]:
            async for response in inner_ss(_checked(requests), context):
                yield response

        return grpc.stream_stream_rpc_method_handler(stream_stream, des, ser)


async def _checked(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for request in requests:
        check_message(request)
        yield request
