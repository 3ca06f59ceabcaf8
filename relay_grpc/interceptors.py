"""Cross-cutting gRPC concerns: logging + metrics, error mapping, authentication.

Order (outermost first): ``LoggingInterceptor`` -> ``ErrorInterceptor`` ->
``AuthInterceptor``. Each wraps the method handler's behaviour in an async
context manager, so unary and streaming RPCs get the same treatment and the
servicers hold no try/except.

Auth: ``authorization: Bearer <token>``. ShopJobsService (all but Enroll) needs a
valid shop token, resolved here to ``callinfo.current().shop``. Customer RPCs
(all but CreateJob) carry the customer token in ``callinfo.current().token``;
the job service checks it against the named job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import grpc
from grpc import aio

from cloudtab_rpc import status
from relay_grpc import callinfo, metrics
from relay_grpc.boundary import PeerCalls, check_message, checked, peer_key
from relay_grpc.errors import Reason, RelayError
from relay_grpc.shops import ShopService
from relay_grpc.store.blobs import (
    BlobNotFoundError,
    BlobStoreFullError,
    BlobStorePermissionError,
    BlobStoreUnavailableError,
)

log = logging.getLogger(__name__)

SHOP_SERVICE = "/cloudtab.v1.ShopJobsService/"
CUSTOMER_SERVICE = "/cloudtab.v1.CustomerJobsService/"
PUBLIC_METHODS = frozenset({SHOP_SERVICE + "Enroll", CUSTOMER_SERVICE + "CreateJob"})

Around = Callable[[str, Any], AbstractAsyncContextManager[None]]


def _wrap(handler: grpc.RpcMethodHandler, method: str, around: Around) -> grpc.RpcMethodHandler:
    """A handler whose behaviour runs inside ``around(method, context)``."""
    if handler.unary_unary or handler.stream_unary:
        inner = handler.unary_unary or handler.stream_unary

        async def unary(request: Any, context: aio.ServicerContext) -> Any:
            async with around(method, context):
                return await inner(request, context)

        factory = grpc.unary_unary_rpc_method_handler if handler.unary_unary else grpc.stream_unary_rpc_method_handler
        return factory(unary, handler.request_deserializer, handler.response_serializer)
    inner_stream = handler.unary_stream or handler.stream_stream

    async def streaming(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
        async with around(method, context):
            async for response in inner_stream(request, context):
                yield response

    factory = grpc.unary_stream_rpc_method_handler if handler.unary_stream else grpc.stream_stream_rpc_method_handler
    return factory(streaming, handler.request_deserializer, handler.response_serializer)


class _WrappingInterceptor(aio.ServerInterceptor):
    def around(self, method: str, context: aio.ServicerContext) -> AbstractAsyncContextManager[None]:
        raise NotImplementedError

    def applies(self, method: str) -> bool:
        return method.startswith("/cloudtab.v1.")

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not self.applies(method):
            return handler
        return _wrap(handler, method, self.around)


class LoggingInterceptor(_WrappingInterceptor):
    """One structured line per RPC (method, shop, job, status, duration) + metrics."""

    @asynccontextmanager
    async def around(self, method: str, context: aio.ServicerContext) -> AsyncIterator[None]:
        info = callinfo.begin(method.rsplit("/", 1)[-1], context.peer() or "")
        start = time.perf_counter()
        try:
            yield
        except BaseException as exc:
            if info.code == "OK":
                info.code = "CANCELLED" if not isinstance(exc, Exception) else "UNKNOWN"
            raise
        finally:
            elapsed = time.perf_counter() - start
            metrics.RPCS.labels(method=info.method, code=info.code).inc()
            metrics.RPC_SECONDS.labels(method=info.method).observe(elapsed)
            level = logging.ERROR if info.code in ("INTERNAL", "UNKNOWN") else logging.INFO
            log.log(
                level,
                "rpc method=%s code=%s reason=%s duration_ms=%.1f shop=%s job=%s peer=%s",
                info.method,
                info.code,
                info.reason or "-",
                elapsed * 1000,
                info.shop_slug or "-",
                info.job_id or "-",
                info.peer,
            )


_BLOB_ERRORS: dict[type[Exception], tuple[Reason, str]] = {
    BlobStoreUnavailableError: (Reason.BACKEND_UNAVAILABLE, "blob store unavailable; retry"),
    BlobStoreFullError: (Reason.STORAGE_FULL, "relay storage is full; retry later"),
    BlobNotFoundError: (Reason.FILE_DATA_MISSING, "file data not found"),
    BlobStorePermissionError: (Reason.BACKEND_UNAVAILABLE, "relay storage is not writable; retry later"),
}


def _database_unavailable(exc: Exception) -> bool:
    import sqlalchemy.exc

    return isinstance(exc, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError) or (
        isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated
    )


def as_relay_error(exc: Exception, method: str) -> RelayError:
    """The RelayError to send for any exception (logging what needs the operator)."""
    if isinstance(exc, RelayError):
        return exc
    for kind, (reason, message) in _BLOB_ERRORS.items():
        if isinstance(exc, kind):
            # Permission errors need the operator; the rest are transient or the client's.
            level = logging.ERROR if isinstance(exc, BlobStorePermissionError) else logging.WARNING
            log.log(level, "%s in %s: %s (%s)", type(exc).__name__, method, reason.value, exc)
            return RelayError(reason, message)
    if _database_unavailable(exc):
        log.warning("database unavailable in %s: %s", method, type(exc).__name__)
        return RelayError(Reason.BACKEND_UNAVAILABLE, "database unavailable; retry")
    log.exception("unexpected error in %s", method)
    return RelayError(Reason.INTERNAL, "internal error")


class ErrorInterceptor(_WrappingInterceptor):
    """Every failure -> its reason's status with a google.rpc ErrorInfo; else INTERNAL."""

    @asynccontextmanager
    async def around(self, method: str, context: aio.ServicerContext) -> AsyncIterator[None]:
        info = callinfo.current()
        try:
            yield
        except aio.AbortError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure gets a reason
            error = as_relay_error(exc, info.method)
            info.code = error.status
            info.reason = error.reason.value
            code, trailers = status.trailers(error.reason, error.message, error.metadata)
            await context.abort(code, error.message, trailing_metadata=trailers)


def bearer_token(metadata: Any) -> str | None:
    """The token of an ``authorization: Bearer <token>`` entry, or None."""
    for key, value in metadata or ():
        if key.lower() == "authorization":
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


class AuthInterceptor(_WrappingInterceptor):
    """Resolves the shop token for ShopJobsService; stashes the customer token."""

    def __init__(self, shops: ShopService) -> None:
        self.shops = shops

    def applies(self, method: str) -> bool:
        return method.startswith((SHOP_SERVICE, CUSTOMER_SERVICE)) and method not in PUBLIC_METHODS

    @asynccontextmanager
    async def around(self, method: str, context: aio.ServicerContext) -> AsyncIterator[None]:
        info = callinfo.current()
        token = bearer_token(context.invocation_metadata())
        if method.startswith(SHOP_SERVICE):
            if token is None:
                raise RelayError(Reason.TOKEN_INVALID, "missing shop token (authorization: Bearer <token>)")
            shop = await self.shops.authenticate(token)
            info.shop = shop
            info.shop_slug = shop.slug
        else:
            info.token = token
        yield


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
                    return await inner_su(checked(requests), context)
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
            async for response in inner_ss(checked(requests), context):
                yield response

        return grpc.stream_stream_rpc_method_handler(stream_stream, des, ser)
