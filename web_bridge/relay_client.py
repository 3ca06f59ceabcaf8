"""The bridge's gRPC client of the relay, one per application (and per process).

Each call goes out with a deadline; a failed call raises :class:`RelayCallError`, which
``errors.py`` turns into an HTTP status and words a customer understands. The channel is
created lazily in the process that uses it, so a forking server (gunicorn) never shares
a gRPC channel across ``fork()``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from cloudtab.v1 import (
    customer_jobs_pb2,
    customer_jobs_pb2_grpc,
    shop_directory_pb2,
    shop_directory_pb2_grpc,
)
from flask import Flask, current_app

from cloudtab_rpc.reasons import Reason
from cloudtab_rpc.status import error_info

logger = logging.getLogger(__name__)

EXTENSION_KEY = "cloudtab_relay"


class RelayCallError(Exception):
    """A relay call failed: ``operation`` the RPC name, ``code`` the gRPC status,
    ``reason`` the relay's ErrorInfo reason (None when the relay was not reached)
    and ``metadata`` its ErrorInfo metadata."""

    def __init__(
        self,
        operation: str,
        code: grpc.StatusCode,
        details: str,
        reason: Reason | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{operation}: {code.name} {reason or '-'}: {details}")
        self.operation = operation
        self.code = code
        self.details = details
        self.reason = reason
        self.metadata: Mapping[str, str] = dict(metadata or {})


@dataclass
class WatchStream:
    """An open WatchJob stream: iterate ``responses``; ``cancel()`` ends it."""

    responses: Iterator[customer_jobs_pb2.WatchJobResponse]
    call: grpc.Call

    def cancel(self) -> None:
        """End the stream (idempotent)."""
        self.call.cancel()


def _auth(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


class RelayClient:
    """Thin synchronous client of ShopDirectoryService and CustomerJobsService."""

    def __init__(
        self,
        address: str,
        *,
        timeout: float = 10.0,
        upload_timeout: float = 300.0,
        tls: bool = False,
        ca_file: str | None = None,
    ) -> None:
        self.address = address
        self.timeout = timeout
        self.upload_timeout = upload_timeout
        self._tls = tls
        self._ca_file = ca_file
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._channel: grpc.Channel | None = None
        self._stub_pair: (
            tuple[
                shop_directory_pb2_grpc.ShopDirectoryServiceStub,
                customer_jobs_pb2_grpc.CustomerJobsServiceStub,
            ]
            | None
        ) = None

    def _stubs(
        self,
    ) -> tuple[
        shop_directory_pb2_grpc.ShopDirectoryServiceStub,
        customer_jobs_pb2_grpc.CustomerJobsServiceStub,
    ]:
        with self._lock:
            if self._stub_pair is None or self._pid != os.getpid():
                self._channel = self._make_channel()
                self._pid = os.getpid()
                self._stub_pair = (
                    shop_directory_pb2_grpc.ShopDirectoryServiceStub(self._channel),
                    customer_jobs_pb2_grpc.CustomerJobsServiceStub(self._channel),
                )
            return self._stub_pair

    def _make_channel(self) -> grpc.Channel:
        options = [
            ("grpc.keepalive_time_ms", 30_000),
            ("grpc.keepalive_permit_without_calls", 0),
        ]
        if not self._tls:
            return grpc.insecure_channel(self.address, options=options)
        root = None
        if self._ca_file:
            with open(self._ca_file, "rb") as handle:
                root = handle.read()
        return grpc.secure_channel(self.address, grpc.ssl_channel_credentials(root), options=options)

    def close(self) -> None:
        """Close the channel, if this process opened one."""
        with self._lock:
            if self._channel is not None and self._pid == os.getpid():
                self._channel.close()
            self._channel = None
            self._stub_pair = None

    # --- calls -------------------------------------------------------------------

    def get_shop(self, slug: str) -> shop_directory_pb2.GetShopResponse:
        """GetShop. Raises: RelayCallError."""
        directory, _ = self._stubs()
        try:
            return directory.GetShop(shop_directory_pb2.GetShopRequest(slug=slug), timeout=self.timeout)
        except grpc.RpcError as exc:
            raise wrap_error("GetShop", exc) from None

    def create_job(
        self, slug: str, file_sizes: list[int], key_fingerprint: bytes
    ) -> customer_jobs_pb2.CreateJobResponse:
        """CreateJob. Raises: RelayCallError."""
        _, customer = self._stubs()
        request = customer_jobs_pb2.CreateJobRequest(
            shop_slug=slug, file_sizes=file_sizes, key_fingerprint=key_fingerprint
        )
        try:
            return customer.CreateJob(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            raise wrap_error("CreateJob", exc) from None

    def upload_file(
        self,
        token: str,
        job_id: str,
        file_index: int,
        offset: int,
        chunks: Iterable[bytes],
    ) -> customer_jobs_pb2.UploadFileResponse:
        """UploadFile from ``offset`` with ``chunks`` as data messages.

        ``chunks`` is consumed lazily by gRPC's flow control, so memory stays bounded by
        a few chunks. Raises: RelayCallError.
        """
        _, customer = self._stubs()

        def requests() -> Iterator[customer_jobs_pb2.UploadFileRequest]:
            yield customer_jobs_pb2.UploadFileRequest(
                header=customer_jobs_pb2.UploadFileHeader(job_id=job_id, file_index=file_index, offset=offset)
            )
            for chunk in chunks:
                yield customer_jobs_pb2.UploadFileRequest(data=chunk)

        try:
            return customer.UploadFile(requests(), timeout=self.upload_timeout, metadata=_auth(token))
        except grpc.RpcError as exc:
            raise wrap_error("UploadFile", exc) from None

    def _customer_call(self, method: str, request: object, token: str) -> Any:
        """One unary CustomerJobsService call with the customer's token.

        Raises:
            RelayCallError: the relay answered with an error status.
        """
        _, customer = self._stubs()
        try:
            return getattr(customer, method)(request, timeout=self.timeout, metadata=_auth(token))
        except grpc.RpcError as exc:
            raise wrap_error(method, exc) from None

    def get_upload_offset(self, token: str, job_id: str, file_index: int) -> customer_jobs_pb2.GetUploadOffsetResponse:
        """GetUploadOffset. Raises: RelayCallError."""
        request = customer_jobs_pb2.GetUploadOffsetRequest(job_id=job_id, file_index=file_index)
        return self._customer_call("GetUploadOffset", request, token)

    def submit_job(self, token: str, job_id: str, sealed_manifest: bytes) -> customer_jobs_pb2.SubmitJobResponse:
        """SubmitJob. Raises: RelayCallError."""
        request = customer_jobs_pb2.SubmitJobRequest(job_id=job_id, sealed_manifest=sealed_manifest)
        return self._customer_call("SubmitJob", request, token)

    def cancel_job(self, token: str, job_id: str) -> customer_jobs_pb2.CancelJobResponse:
        """CancelJob. Raises: RelayCallError."""
        request = customer_jobs_pb2.CancelJobRequest(job_id=job_id)
        return self._customer_call("CancelJob", request, token)

    def get_job(self, token: str, job_id: str) -> customer_jobs_pb2.GetJobResponse:
        """GetJob. Raises: RelayCallError."""
        request = customer_jobs_pb2.GetJobRequest(job_id=job_id)
        return self._customer_call("GetJob", request, token)

    def watch_job(self, token: str, job_id: str, after_sequence: int, max_seconds: float) -> WatchStream:
        """Open WatchJob; the stream ends by itself after ``max_seconds``.

        Errors surface while iterating, as RelayCallError (see :func:`iterate_watch`).
        """
        _, customer = self._stubs()
        request = customer_jobs_pb2.WatchJobRequest(job_id=job_id, after_sequence=after_sequence)
        call = customer.WatchJob(request, timeout=max_seconds, metadata=_auth(token))
        return WatchStream(responses=call, call=call)


def iterate_watch(
    stream: WatchStream,
) -> Iterator[customer_jobs_pb2.WatchJobResponse]:
    """Yield the stream's messages; a deadline ends it quietly.

    Raises:
        RelayCallError: for any other failure of the stream.
    """
    try:
        yield from stream.responses
    except grpc.RpcError as exc:
        code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
        if code in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED):
            return
        raise wrap_error("WatchJob", exc) from None


def wrap_error(operation: str, exc: grpc.RpcError) -> RelayCallError:
    """The RelayCallError of a failed call, with the relay's reason and metadata."""
    info = error_info(exc)
    if info.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN):
        logger.warning("relay call %s failed: %s %s", operation, info.code.name, info.reason or "-")
    else:
        logger.info("relay call %s refused: %s %s", operation, info.code.name, info.reason or "-")
    return RelayCallError(operation, info.code, info.message, info.reason, info.metadata)


def get_client() -> RelayClient:
    """The current application's relay client."""
    client: RelayClient = current_app.extensions[EXTENSION_KEY]
    return client


def init_app(app: Flask) -> None:
    """Attach a RelayClient built from the app's RELAY_* settings.

    A test may pass its own client (or a fake) as the ``RELAY_CLIENT`` setting.
    """
    given = app.config.get("RELAY_CLIENT")
    if given is not None:
        app.extensions[EXTENSION_KEY] = given
        return
    app.extensions[EXTENSION_KEY] = RelayClient(
        str(app.config["RELAY_ADDRESS"]),
        timeout=float(app.config["RELAY_TIMEOUT"]),
        upload_timeout=float(app.config["RELAY_UPLOAD_TIMEOUT"]),
        tls=bool(app.config["RELAY_TLS"]),
        ca_file=app.config["RELAY_CA_FILE"],
    )
