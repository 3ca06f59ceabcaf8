"""Cross-cutting gRPC concerns: logging + metrics, error mapping, the boundary checks,
authentication.

They are applied once, when the services are registered (``add_service``), not by
``grpc.aio`` server interceptors: each CloudTab method handler is replaced by one
wrapper built for that method at start-up (its short name, metric children, what
auth it needs), so an RPC pays for one plain coroutine and no interceptor chain.

Order (outermost first), as before: logging and metrics -> error mapping ->
boundary (control characters in every string; the per-peer cap on upload
streams) -> auth -> the servicer. Unary and streaming RPCs get the same
treatment and the servicers hold no try/except.

Auth: ``authorization: Bearer <token>``. ShopJobsService (all but Enroll) needs a
valid shop token, resolved here to ``callinfo.current().shop``. Customer RPCs
(all but CreateJob) carry the customer token in ``callinfo.current().token``;
the job service checks it against the named job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
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
_LOG_FORMAT = "rpc method=%s code=%s reason=%s duration_ms=%.1f shop=%s job=%s peer=%s"

_BLOB_ERRORS: dict[type[Exception], tuple[Reason, str]] = {
    BlobStoreUnavailableError: (Reason.BACKEND_UNAVAILABLE, "blob store unavailable; retry"),
    BlobStoreFullError: (Reason.STORAGE_FULL, "relay storage is full; retry later"),
    BlobNotFoundError: (Reason.FILE_DATA_MISSING, "file data not found"),
    BlobStorePermissionError: (Reason.BACKEND_UNAVAILABLE, "relay storage is not writable; retry later"),
}


def _database_unavailable(exc: Exception) -> bool:
    import psycopg
    import sqlalchemy.exc

    return (
        isinstance(exc, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError | psycopg.OperationalError)
        or (isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated)
        or isinstance(exc, psycopg.InterfaceError)
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


class _Call:
    """What one method's wrapper needs, computed once: names, metric children, auth kind."""

    def __init__(self, method: str, shops: ShopService) -> None:
        self.method = method
        self.name = method.rsplit("/", 1)[-1]
        self.shops = shops
        self.shop_auth = method.startswith(SHOP_SERVICE) and method not in PUBLIC_METHODS
        self.customer_auth = method.startswith(CUSTOMER_SERVICE) and method not in PUBLIC_METHODS
        self.seconds = metrics.RPC_SECONDS.labels(method=self.name)
        self._counts: dict[str, Any] = {}

    def begin(self, context: aio.ServicerContext) -> callinfo.CallInfo:
        return callinfo.begin(self.name, context.peer() or "")

    async def authenticate(self, info: callinfo.CallInfo, context: aio.ServicerContext) -> None:
        """The auth step: the shop for ShopJobsService, the customer token stashed."""
        if self.shop_auth:
            token = bearer_token(context.invocation_metadata())
            if token is None:
                raise RelayError(Reason.TOKEN_INVALID, "missing shop token (authorization: Bearer <token>)")
            shop = await self.shops.authenticate(token)
            info.shop = shop
            info.shop_slug = shop.slug
        elif self.customer_auth:
            info.token = bearer_token(context.invocation_metadata())

    async def fail(self, info: callinfo.CallInfo, exc: Exception, context: aio.ServicerContext) -> None:
        """Abort with the reason of ``exc`` (raises ``aio.AbortError``)."""
        error = as_relay_error(exc, info.method)
        info.code = error.status
        info.reason = error.reason.value
        code, trailers = status.trailers(error.reason, error.message, error.metadata)
        await context.abort(code, error.message, trailing_metadata=trailers)

    def end(self, info: callinfo.CallInfo, start: float, exc: BaseException | None) -> None:
        """Metrics and the log line."""
        if exc is not None and info.code == "OK":
            info.code = "CANCELLED" if not isinstance(exc, Exception) else "UNKNOWN"
        elapsed = time.perf_counter() - start
        counter = self._counts.get(info.code)
        if counter is None:
            counter = self._counts[info.code] = metrics.RPCS.labels(method=self.name, code=info.code)
        counter.inc()
        self.seconds.observe(elapsed)
        level = logging.ERROR if info.code in ("INTERNAL", "UNKNOWN") else logging.INFO
        if log.isEnabledFor(level):
            log.log(
                level, _LOG_FORMAT, info.method, info.code, info.reason or "-", elapsed * 1000,
                info.shop_slug or "-", info.job_id or "-", info.peer,
            )  # fmt: skip


def wrap_handler(
    handler: grpc.RpcMethodHandler, method: str, shops: ShopService, uploads: PeerCalls
) -> grpc.RpcMethodHandler:
    """``handler`` with logging, metrics, error mapping, boundary checks and auth."""
    call = _Call(method, shops)
    des, ser = handler.request_deserializer, handler.response_serializer

    if handler.unary_unary:
        inner_uu = handler.unary_unary

        async def unary_unary(request: Any, context: aio.ServicerContext) -> Any:
            info = call.begin(context)
            start = time.perf_counter()
            failure: BaseException | None = None
            try:
                try:
                    check_message(request)
                    await call.authenticate(info, context)
                    return await inner_uu(request, context)
                except aio.AbortError:
                    raise
                except Exception as exc:  # noqa: BLE001 - every failure gets a reason
                    await call.fail(info, exc, context)
            except BaseException as exc:
                failure = exc
                raise
            finally:
                call.end(info, start, failure)

        return grpc.unary_unary_rpc_method_handler(unary_unary, des, ser)

    if handler.stream_unary:
        inner_su = handler.stream_unary

        async def stream_unary(requests: AsyncIterator[Any], context: aio.ServicerContext) -> Any:
            info = call.begin(context)
            start = time.perf_counter()
            failure: BaseException | None = None
            try:
                try:
                    key = peer_key(info.peer)
                    uploads.enter(key)
                    try:
                        await call.authenticate(info, context)
                        return await inner_su(checked(requests), context)
                    finally:
                        uploads.leave(key)
                except aio.AbortError:
                    raise
                except Exception as exc:  # noqa: BLE001
                    await call.fail(info, exc, context)
            except BaseException as exc:
                failure = exc
                raise
            finally:
                call.end(info, start, failure)

        return grpc.stream_unary_rpc_method_handler(stream_unary, des, ser)

    # Server streams: a unary request is checked whole; a client stream message by message.
    unary_request = handler.unary_stream is not None
    inner_stream = handler.unary_stream if unary_request else handler.stream_stream

    async def streaming(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
        info = call.begin(context)
        start = time.perf_counter()
        failure: BaseException | None = None
        try:
            try:
                if unary_request:
                    check_message(request)
                await call.authenticate(info, context)
                async for response in inner_stream(request if unary_request else checked(request), context):
                    yield response
            except aio.AbortError:
                raise
            except Exception as exc:  # noqa: BLE001
                await call.fail(info, exc, context)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            call.end(info, start, failure)

    factory = grpc.unary_stream_rpc_method_handler if unary_request else grpc.stream_stream_rpc_method_handler
    return factory(streaming, des, ser)


class _Collector:
    """Stands in for the server while a generated ``add_*_to_server`` registers a service."""

    def __init__(self) -> None:
        self.services: dict[str, dict[str, grpc.RpcMethodHandler]] = {}

    def add_generic_rpc_handlers(self, handlers: Any) -> None:
        """Ignored: the method handlers come through ``add_registered_method_handlers``."""

    def add_registered_method_handlers(self, service: str, handlers: dict[str, grpc.RpcMethodHandler]) -> None:
        self.services[service] = handlers


class Instrumented:
    """Registers CloudTab services on a server with every method wrapped (see module docstring)."""

    def __init__(self, server: aio.Server, shops: ShopService, max_uploads_per_peer: int) -> None:
        self.server = server
        self.shops = shops
        self.uploads = PeerCalls(max_uploads_per_peer)

    def add_service(self, register: Callable[[Any, Any], None], servicer: Any) -> None:
        """``register(servicer, server)`` (a generated ``add_*Servicer_to_server``), wrapped."""
        collector = _Collector()
        register(servicer, collector)
        if not collector.services:
            raise RuntimeError("the service registered no method handlers")
        for service, handlers in collector.services.items():
            wrapped = {
                name: wrap_handler(handler, f"/{service}/{name}", self.shops, self.uploads)
                for name, handler in handlers.items()
            }
            self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, wrapped),))
            self.server.add_registered_method_handlers(service, wrapped)
