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

from relay_grpc import callinfo, metrics
from relay_grpc.errors import RelayError, Unauthenticated
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
                "rpc method=%s code=%s duration_ms=%.1f shop=%s job=%s peer=%s",
                info.method,
                info.code,
                elapsed * 1000,
                info.shop_slug or "-",
                info.job_id or "-",
                info.peer,
            )


_BLOB_ERRORS: dict[type[Exception], tuple[grpc.StatusCode, str]] = {
    BlobStoreUnavailableError: (grpc.StatusCode.UNAVAILABLE, "blob store unavailable; retry"),
    BlobStoreFullError: (grpc.StatusCode.RESOURCE_EXHAUSTED, "relay storage is full; retry later"),
    BlobNotFoundError: (grpc.StatusCode.NOT_FOUND, "file data not found"),
    BlobStorePermissionError: (grpc.StatusCode.UNAVAILABLE, "relay storage is not writable; retry later"),
}


def _database_unavailable(exc: Exception) -> bool:
    import sqlalchemy.exc

    return isinstance(exc, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError) or (
        isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated
    )


class ErrorInterceptor(_WrappingInterceptor):
    """Domain errors -> their status; backend outages -> UNAVAILABLE; else INTERNAL."""

    @asynccontextmanager
    async def around(self, method: str, context: aio.ServicerContext) -> AsyncIterator[None]:
        info = callinfo.current()
        try:
            yield
        except aio.AbortError:
            raise
        except RelayError as exc:
            info.code = exc.status
            await context.abort(getattr(grpc.StatusCode, exc.status), exc.message)
        except Exception as exc:
            for kind, (code, message) in _BLOB_ERRORS.items():
                if isinstance(exc, kind):
                    info.code = code.name
                    # Permission errors need the operator; the rest are transient or the client's.
                    level = logging.ERROR if isinstance(exc, BlobStorePermissionError) else logging.WARNING
                    log.log(level, "%s in %s: %s (%s)", type(exc).__name__, info.method, code.name, exc)
                    await context.abort(code, message)
            if _database_unavailable(exc):
                info.code = "UNAVAILABLE"
                log.warning("database unavailable in %s: %s", info.method, type(exc).__name__)
                await context.abort(grpc.StatusCode.UNAVAILABLE, "database unavailable; retry")
            info.code = "INTERNAL"
            log.exception("unexpected error in %s", info.method)
            await context.abort(grpc.StatusCode.INTERNAL, "internal error")


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
                raise Unauthenticated("missing shop token (authorization: Bearer <token>)")
            shop = await self.shops.authenticate(token)
            info.shop = shop
            info.shop_slug = shop.slug
        else:
            info.token = token
        yield
