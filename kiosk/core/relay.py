"""Blocking gRPC client of ShopJobsService, as the kiosk uses it.

Addresses: ``host:port`` (plaintext, for a relay on the same machine or a
test), ``grpcs://host[:port]`` or ``https://host[:port]`` (TLS, default port
443). Every call but Enroll carries ``authorization: Bearer <token>``.
gRPC errors become :class:`RelayError` subclasses chosen by the relay's error
reason (``cloudtab_rpc.reasons``), never by its message text.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import grpc
from cloudtab.v1 import common_pb2, shop_jobs_pb2, shop_jobs_pb2_grpc

from cloudtab_rpc.reasons import Reason
from cloudtab_rpc.status import ErrorInfo, error_info
from envelope.errors import EnvelopeError
from kiosk.core.errors import (
    EnrollmentError,
    JobError,
    KioskError,
    NotAuthorized,
    RelayError,
    UpdateNeeded,
)
from kiosk.core.version import KIOSK_VERSION

if TYPE_CHECKING:
    from kiosk.core.capabilities import Capabilities
    from kiosk.core.receipts import ReceiptSigner

log = logging.getLogger(__name__)

CALL_TIMEOUT = 15.0
DOWNLOAD_RETRIES = 5
CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 20_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.max_receive_message_length", 8 << 20),
    ("grpc.initial_reconnect_backoff_ms", 500),
    ("grpc.max_reconnect_backoff_ms", 5_000),
]
T = TypeVar("T")


def parse_address(address: str) -> tuple[str, bool]:
    """(target, use_tls) of a relay address.

    Raises:
        RelayError: empty address.
    """
    address = address.strip()
    if not address:
        raise RelayError("no relay address is set")
    for prefix, tls in (("grpcs://", True), ("https://", True), ("grpc://", False), ("http://", False)):
        if address.startswith(prefix):
            target = address[len(prefix) :].rstrip("/")
            if tls and ":" not in target.rsplit("]", 1)[-1]:
                target += ":443"
            return target, tls
    return address, False


def make_channel(address: str) -> grpc.Channel:
    """A channel to the relay (TLS per the address form).

    Raises:
        RelayError: empty address.
    """
    target, tls = parse_address(address)
    if tls:
        return grpc.secure_channel(target, grpc.ssl_channel_credentials(), options=CHANNEL_OPTIONS)
    return grpc.insecure_channel(target, options=CHANNEL_OPTIONS)


# The relay no longer has or allows the job: retrying cannot help.
GONE_REASONS = frozenset(
    {
        Reason.JOB_NOT_FOUND,
        Reason.JOB_EXPIRED,
        Reason.JOB_TERMINAL,
        Reason.JOB_STATE_CONFLICT,
        Reason.FILE_DATA_MISSING,
        Reason.NO_SUCH_FILE,
        Reason.OFFSET_OUT_OF_RANGE,
    }
)
UNREACHABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
# A download that failed for these (None: no reason, the connection itself) resumes.
RETRY_REASONS = frozenset({None, Reason.BACKEND_UNAVAILABLE, Reason.SHUTTING_DOWN, Reason.INTERNAL})


def describe(info: ErrorInfo) -> str:
    """A short text for a failed call (the relay's messages never hold secrets)."""
    name = info.reason or info.code.name
    return f"{name}: {info.message}" if info.message else name


def map_error(exc: grpc.RpcError, what: str) -> RelayError:
    """The RelayError for a failed call, chosen by the relay's reason.

    ``code`` is the status name, ``reason`` the reason name (None without one).
    """
    info = error_info(exc)
    code, reason = info.code.name, info.reason
    if reason == Reason.TOKEN_INVALID:
        return NotAuthorized(f"{what}: the relay does not accept this kiosk's token; enroll again", code, reason)
    if reason == Reason.KIOSK_TOO_OLD:
        minimum = info.metadata.get("min_kiosk_version", "?")
        return UpdateNeeded(f"{what}: this kiosk is too old for the relay (it needs {minimum})", code, reason)
    if reason is None and info.code in UNREACHABLE:
        return RelayError(f"{what}: the relay cannot be reached", code)
    return RelayError(f"{what}: {describe(info)}", code, reason, gone=reason in GONE_REASONS)


class RelayClient:
    """One channel to the relay plus the shop token."""

    def __init__(self, address: str, token: str | None = None, signer: ReceiptSigner | None = None) -> None:
        self.address = address
        self.token = token
        self.signer = signer  # signs every state change (kiosk/core/receipts.py)
        self._manifests: dict[str, bytes] = {}  # job id -> SHA-256 of its sealed manifest
        self.channel = make_channel(address)
        self.stub = shop_jobs_pb2_grpc.ShopJobsServiceStub(self.channel)

    def close(self) -> None:
        self.channel.close()

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),) if self.token else ()

    def _call(self, what: str, fn: Callable[..., T], request: Any, timeout: float = CALL_TIMEOUT) -> T:
        try:
            return fn(request, metadata=self.metadata, timeout=timeout)
        except grpc.RpcError as exc:
            raise map_error(exc, what) from None

    def enroll(self, code: str, public_key: bytes, signing_key: bytes = b"") -> shop_jobs_pb2.EnrollResponse:
        """Redeem an enrollment code with the kiosk's public key (and receipt-signing key).

        Raises:
            EnrollmentError: unknown/used/expired code, invalid key, relay unreachable.
            UpdateNeeded: the relay needs a newer kiosk (KIOSK_TOO_OLD).
        """
        request = shop_jobs_pb2.EnrollRequest(
            enrollment_code=code.strip(), public_key=public_key, kiosk_version=KIOSK_VERSION, signing_key=signing_key
        )
        try:
            return self.stub.Enroll(request, timeout=CALL_TIMEOUT)
        except grpc.RpcError as exc:
            error = map_error(exc, "enrollment")
        if isinstance(error, UpdateNeeded):
            raise error
        if error.reason == Reason.ENROLLMENT_CODE_INVALID:
            raise EnrollmentError("the enrollment code is unknown, used or expired")
        if error.reason is None and error.code in (c.name for c in UNREACHABLE):
            raise EnrollmentError(f"the relay at {self.address} cannot be reached")
        raise EnrollmentError(f"enrollment failed: {error}")

    def rotate_key(self, public_key: bytes, signing_key: bytes = b"") -> shop_jobs_pb2.RotateKeyResponse:
        """Replace the shop's public key (publishing the signing key too). Raises: RelayError."""
        request = shop_jobs_pb2.RotateKeyRequest(public_key=public_key, signing_key=signing_key)
        return self._call("key rotation", self.stub.RotateKey, request)

    def publish_capabilities(self, caps: Capabilities) -> shop_jobs_pb2.PublishCapabilitiesResponse:
        """Publish the shop's printer choices, price list and document types. Raises: RelayError."""
        msg = common_pb2.ShopCapabilities(
            media=caps.media,
            color=caps.color,
            sides=caps.sides,
            pages_per_sheet=caps.pages_per_sheet,
            currency=caps.prices.currency,
            prices=[
                common_pb2.SheetPrice(media=p.media, color=p.color, duplex=p.duplex, amount=p.amount)
                for p in caps.prices.sheets
                if p.media in caps.media and p.color in caps.color
            ],
            accepted_media_types=caps.accepted_media_types,
        )
        return self._call(
            "publishing the shop's prices",
            self.stub.PublishCapabilities,
            shop_jobs_pb2.PublishCapabilitiesRequest(capabilities=msg),
        )

    def subscribe(self, after_sequence: int) -> Any:
        """The SubscribeJobs call (an iterator of responses with .cancel()); errors surface while iterating."""
        request = shop_jobs_pb2.SubscribeJobsRequest(after_sequence=after_sequence, kiosk_version=KIOSK_VERSION)
        return self.stub.SubscribeJobs(request, metadata=self.metadata)

    def get_job(self, job_id: str) -> common_pb2.Job:
        """Raises: RelayError (JobNotFound is a RelayError NOT_FOUND text)."""
        return self._remember(
            self._call(
                "fetching the job", self.stub.GetJob, shop_jobs_pb2.ShopJobsServiceGetJobRequest(job_id=job_id)
            ).job
        )

    def update_job(
        self,
        job_id: str,
        state: common_pb2.JobState.ValueType,
        statement: common_pb2.KioskStatement | None = None,
    ) -> common_pb2.Job:
        """Report RECEIVED or PRINTING, with what the kiosk attaches to it (signed). Raises: RelayError."""
        statement = self._signed(job_id, state, "", statement)
        request = shop_jobs_pb2.UpdateJobRequest(job_id=job_id, state=state, kiosk_statement=statement)
        return self._call("updating the job", self.stub.UpdateJob, request).job

    def complete_job(self, job_id: str, statement: common_pb2.KioskStatement | None = None) -> common_pb2.Job:
        """Raises: RelayError."""
        statement = self._signed(job_id, common_pb2.JOB_STATE_COMPLETED, "", statement)
        request = shop_jobs_pb2.CompleteJobRequest(job_id=job_id, kiosk_statement=statement)
        self._manifests.pop(job_id, None)
        return self._call("completing the job", self.stub.CompleteJob, request).job

    def reject_job(
        self, job_id: str, reason: str, statement: common_pb2.KioskStatement | None = None
    ) -> common_pb2.Job:
        """Raises: RelayError."""
        reason = reason.strip()  # as the relay stores it, so the signed reason is the shown one
        statement = self._signed(job_id, common_pb2.JOB_STATE_REJECTED, reason, statement)
        request = shop_jobs_pb2.RejectJobRequest(job_id=job_id, reason=reason, kiosk_statement=statement)
        self._manifests.pop(job_id, None)
        return self._call("rejecting the job", self.stub.RejectJob, request).job

    def _remember(self, job: common_pb2.Job) -> common_pb2.Job:
        if job.sealed_manifest:
            self._manifests[job.job_id] = hashlib.sha256(job.sealed_manifest).digest()
        return job

    def _signed(
        self,
        job_id: str,
        state: common_pb2.JobState.ValueType,
        reason: str,
        statement: common_pb2.KioskStatement | None,
    ) -> common_pb2.KioskStatement | None:
        """``statement`` (or a new one) with the kiosk's signature; unchanged without a signer.

        The sealed manifest's hash comes from an earlier GetJob, else from one now. A
        signing failure sends the change unsigned (the page then warns) rather than not at all.
        """
        if self.signer is None:
            return statement
        out = common_pb2.KioskStatement()
        if statement is not None:
            out.CopyFrom(statement)
        try:
            manifest = self._manifests.get(job_id)
            if manifest is None:
                self.get_job(job_id)
                manifest = self._manifests.get(job_id)
            if manifest is None:
                return statement
            wait = common_pb2.WaitReason.Name(out.wait_reason) if out.wait_reason else ""
            signed = self.signer.sign(
                job_id,
                common_pb2.JobState.Name(state).removeprefix("JOB_STATE_").lower(),
                manifest,
                reason=reason,
                wait_reason=wait.removeprefix("WAIT_REASON_").lower(),
                detail_sha256=hashlib.sha256(out.sealed_detail).digest() if out.sealed_detail else b"",
            )
        except (KioskError, EnvelopeError, ValueError) as exc:
            log.warning("job %s: the change goes unsigned: %s", job_id, exc)
            return statement
        if signed is None:
            return statement
        out.signature = signed.signature
        out.sign_time.FromMilliseconds(signed.sign_time_ms)
        return out

    def download_file(
        self,
        job_id: str,
        index: int,
        size: int,
        retries: int = DOWNLOAD_RETRIES,
        sleep: Callable[[float], None] | None = None,
    ) -> bytearray:
        """The whole ciphertext of one file, in memory; a dropped stream resumes at its offset.

        Raises:
            RelayError: the relay refuses, or the stream keeps failing.
            JobError: the relay serves more or fewer bytes than the file has (damaged at rest).
        """

        sleep = sleep or time.sleep
        buffer = bytearray()
        failures = 0
        while True:
            request = shop_jobs_pb2.DownloadFileRequest(job_id=job_id, file_index=index, offset=len(buffer))
            started_at = len(buffer)
            try:
                for chunk in self._chunks(request):
                    # Protocol violations are not network trouble: retrying cannot help.
                    if chunk.offset != len(buffer):
                        raise JobError("the relay sent a chunk at the wrong offset (stored file damaged)")
                    if len(buffer) + len(chunk.data) > size:
                        raise JobError("the relay sent more bytes than the file has (stored file damaged)")
                    buffer += chunk.data
                if len(buffer) >= size:
                    return buffer
                if len(buffer) == started_at:
                    raise JobError("the relay has fewer bytes than the file has (stored file damaged)")
                failures += 1  # the stream ended early after some progress: resume from here
            except grpc.RpcError as exc:
                if error_info(exc).reason not in RETRY_REASONS:
                    raise map_error(exc, "downloading the job") from None
                failures += 1
            if failures > retries:
                raise RelayError("downloading the job keeps failing; will retry later")
            log.info("download of job %s file %d dropped at %d bytes; resuming", job_id, index, len(buffer))
            sleep(min(0.2 * 2**failures, 3.0))

    def _chunks(self, request: shop_jobs_pb2.DownloadFileRequest) -> Iterator[shop_jobs_pb2.DownloadFileResponse]:
        return self.stub.DownloadFile(request, metadata=self.metadata, timeout=120.0)
