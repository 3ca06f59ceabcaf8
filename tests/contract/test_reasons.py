"""Every relay error reason, from a real relay into the bridge and the kiosk core.

Each case makes an in-process relay (``build_server`` on port 0) refuse a call for
one reason; the real ``grpc.RpcError`` then goes through the bridge's error path
(``wrap_error`` + ``describe_relay_error``: exact HTTP status and JSON code) and the
kiosk core's (``map_error``: the exception class the UI switches on). A reason
added to ``cloudtab_rpc.reasons`` without a case here fails
``test_every_reason_has_a_case``.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from cloudtab.v1 import customer_jobs_pb2 as cj
from cloudtab.v1 import (
    customer_jobs_pb2_grpc,
    errors_pb2,
    shop_directory_pb2,
    shop_directory_pb2_grpc,
)
from cloudtab.v1 import shop_jobs_pb2 as sj

from cloudtab_rpc.reasons import SPECS, Reason
from cloudtab_rpc.status import error_info
from kiosk.core.errors import NotAuthorized, RelayError, UpdateNeeded
from kiosk.core.relay import RelayClient as KioskRelayClient
from kiosk.core.relay import map_error
from relay_grpc.store.blobs import (
    BlobNotFoundError,
    BlobStoreFullError,
    BlobStoreUnavailableError,
)
from tests.fixtures.inproc import InProcessRelay
from tests.relay.helpers import (
    JS,
    CustomerJob,
    Kiosk,
    bearer,
    create_job,
    enroll,
    error_of,
    submitted_job,
)
from web_bridge import create_app
from web_bridge.errors import REASON_ERRORS, describe_relay_error
from web_bridge.relay_client import wrap_error


@dataclass
class World:
    """One relay, one enrolled shop, and the means to break things."""

    relay: InProcessRelay
    channel: grpc.Channel
    kiosk: Kiosk

    @property
    def customer(self) -> customer_jobs_pb2_grpc.CustomerJobsServiceStub:
        return customer_jobs_pb2_grpc.CustomerJobsServiceStub(self.channel)

    def job(self, sizes: list[int] | None = None) -> CustomerJob:
        return create_job(self.channel, self.kiosk, sizes or [10])

    @contextlib.contextmanager
    def broken(self, method: str, error: Exception) -> Iterator[None]:
        """The blob store's ``method`` raises ``error`` inside this block."""
        blobs = self.relay.relay.blobs

        async def fail(*_args: Any, **_kwargs: Any) -> Any:
            raise error

        def fail_iter(*_args: Any, **_kwargs: Any) -> Any:
            async def gen() -> Any:
                raise error
                yield b""  # pragma: no cover - makes this an async generator

            return gen()

        setattr(blobs, method, fail_iter if method == "iter_chunks" else fail)
        try:
            yield
        finally:
            delattr(blobs, method)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    relay = InProcessRelay(tmp_path_factory.mktemp("contract"))
    try:
        channel = relay.channel()
        slug, code = relay.add_shop("Contract Shop")
        yield World(relay, channel, enroll(channel, slug, code))
    finally:
        relay.stop()


def _drain(result: Any) -> None:
    if hasattr(result, "__iter__") and not hasattr(result, "ListFields"):
        for _ in result:
            pass


def _upload_idle(w: World) -> Any:
    job = w.job()
    release = threading.Event()

    def messages() -> Iterator[cj.UploadFileRequest]:
        yield cj.UploadFileRequest(header=cj.UploadFileHeader(job_id=job.job_id, file_index=0, offset=0))
        release.wait(10)

    config = w.relay.relay.config
    saved, config.upload_idle_seconds = config.upload_idle_seconds, 0.2
    try:
        return w.customer.UploadFile(messages(), metadata=job.md, timeout=10)
    finally:
        release.set()
        config.upload_idle_seconds = saved


def _expired(w: World) -> Any:
    job = w.job()
    jobs = w.relay.relay.jobs
    saved = jobs.clock
    jobs.clock = lambda: time.time() + 10 * 24 * 3600
    try:
        assert job.job_id in w.relay.run(jobs.expire_due())
    finally:
        jobs.clock = saved
    return job.cancel()


def _rate_limited(w: World) -> Any:
    limiter = w.relay.relay.jobs.create_limiter
    limiter.allow = lambda _peer: False  # type: ignore[method-assign]
    try:
        return w.job()
    finally:
        del limiter.allow


def _too_old(w: World) -> Any:
    request = sj.SubscribeJobsRequest(kiosk_version="0.0.1")
    return w.kiosk.stub.SubscribeJobs(request, metadata=w.kiosk.md, timeout=10)


def _shutting_down(w: World) -> Any:
    """A second relay: stopping it ends an open WatchJob stream."""
    other = InProcessRelay(w.relay.relay.config.resolved_data_dir.parent / "stopping")
    try:
        channel = other.channel()
        slug, code = other.add_shop("Closing Shop")
        job = create_job(channel, enroll(channel, slug, code), [10])
        stream = job.watch(timeout=30)
        next(iter(stream))  # the stream is open
        stopper = threading.Timer(0.3, lambda: other.run(other.server.stop(grace=1.0)))
        stopper.start()
        try:
            for _ in stream:
                pass
        finally:
            stopper.join(30)
    finally:
        other.stop()
    return None


@dataclass(frozen=True)
class Case:
    """How to meet ``reason``; what the bridge and the kiosk make of it."""

    reason: Reason
    call: Callable[[World], Any]
    metadata: dict[str, str]
    http: tuple[int, str]
    kiosk: type[RelayError] = RelayError
    gone: bool = False


CASES = [
    Case(
        Reason.INVALID_REQUEST,
        lambda w: w.customer.CreateJob(
            cj.CreateJobRequest(shop_slug=w.kiosk.slug, file_sizes=[], key_fingerprint=w.kiosk.fingerprint), timeout=10
        ),
        {"field": "file_sizes"},
        (400, "invalid"),
    ),
    Case(
        Reason.LIMIT_EXCEEDED,
        lambda w: w.job([1] * 21),
        {"limit": "max_files_per_job", "max": "20"},
        (413, "too_large"),
    ),
    Case(
        Reason.PAST_DECLARED_SIZE,
        lambda w: w.job([10]).upload(0, b"x" * 11),
        {"size": "10"},
        (413, "past_declared_size"),
    ),
    Case(Reason.RATE_LIMITED, _rate_limited, {}, (429, "too_many_requests")),
    Case(
        Reason.STORAGE_FULL,
        lambda w: _with(w, "append", BlobStoreFullError("full"), lambda: w.job([10]).upload(0, b"x" * 10)),
        {},
        (503, "storage_full"),
    ),
    Case(
        Reason.SHOP_NOT_FOUND,
        lambda w: shop_directory_pb2_grpc.ShopDirectoryServiceStub(w.channel).GetShop(
            shop_directory_pb2.GetShopRequest(slug="no-such-shop"), timeout=10
        ),
        {},
        (404, "shop_not_found"),
    ),
    Case(Reason.JOB_NOT_FOUND, lambda w: w.kiosk.get_job("f" * 32), {}, (404, "job_not_found"), gone=True),
    Case(
        Reason.FILE_DATA_MISSING,
        lambda w: _with(
            w,
            "iter_chunks",
            BlobNotFoundError("gone"),
            lambda: w.kiosk.download(submitted_job(w.channel, w.kiosk, [b"x" * 10]).job_id, 0),
        ),
        {},
        (502, "relay_error"),
        gone=True,
    ),
    Case(
        Reason.KEY_CHANGED,
        lambda w: w.customer.CreateJob(
            cj.CreateJobRequest(shop_slug=w.kiosk.slug, file_sizes=[1], key_fingerprint=b"\x01" * 32), timeout=10
        ),
        {},
        (409, "key_changed"),
    ),
    Case(Reason.KIOSK_TOO_OLD, _too_old, {"min_kiosk_version": "0.1.0"}, (502, "relay_error"), UpdateNeeded),
    Case(Reason.OFFSET_MISMATCH, lambda w: _offset_mismatch(w), {"committed_offset": "4"}, (409, "offset_mismatch")),
    Case(Reason.FILES_INCOMPLETE, lambda w: w.job([10, 10]).submit(b"m"), {"file_indexes": "0,1"}, (409, "incomplete")),
    Case(Reason.JOB_EXPIRED, _expired, {"state": "expired"}, (410, "expired"), gone=True),
    Case(
        Reason.JOB_TERMINAL,
        lambda w: _twice(w.job().cancel),
        {"state": "cancelled"},
        (409, "already_finished"),
        gone=True,
    ),
    Case(
        Reason.JOB_STATE_CONFLICT,
        lambda w: w.kiosk.complete(w.job().job_id),
        {"state": "uploading"},
        (409, "job_closed"),
        gone=True,
    ),
    Case(Reason.NO_SUCH_FILE, lambda w: w.job().offset(3), {"file_index": "3"}, (400, "no_such_file"), gone=True),
    Case(
        Reason.OFFSET_OUT_OF_RANGE,
        lambda w: w.kiosk.download(submitted_job(w.channel, w.kiosk, [b"x" * 10]).job_id, 0, offset=11),
        {"size": "10"},
        (400, "invalid"),
        gone=True,
    ),
    Case(
        Reason.TOKEN_INVALID,
        lambda w: w.customer.GetJob(cj.GetJobRequest(job_id=w.job().job_id), metadata=bearer("x" * 43), timeout=10),
        {},
        (401, "unauthorized"),
        NotAuthorized,
    ),
    Case(
        Reason.ENROLLMENT_CODE_INVALID,
        lambda w: w.kiosk.stub.Enroll(
            sj.EnrollRequest(
                enrollment_code="AAAA-BBBB-CCCC-DDDD", public_key=w.kiosk.public_key, kiosk_version="0.1.0"
            ),
            timeout=10,
        ),
        {},
        (502, "relay_error"),
    ),
    Case(Reason.UPLOAD_IDLE, _upload_idle, {}, (504, "timeout")),
    Case(
        Reason.BACKEND_UNAVAILABLE,
        lambda w: _with(w, "size", BlobStoreUnavailableError("down"), lambda: w.job().offset(0)),
        {},
        (503, "unavailable"),
    ),
    Case(Reason.SHUTTING_DOWN, _shutting_down, {}, (503, "unavailable")),
    Case(
        Reason.INTERNAL,
        lambda w: _with(w, "size", RuntimeError("bug"), lambda: w.job().offset(0)),
        {},
        (502, "relay_error"),
    ),
    Case(
        Reason.REJECT_REASON_UNKNOWN,
        lambda w: w.kiosk.reject(w.job().job_id, "file 2 (NAME.pdf): page 4299 does not exist"),
        {},
        (502, "relay_error"),
    ),
]


def _with(w: World, method: str, error: Exception, call: Callable[[], Any]) -> Any:
    with w.broken(method, error):
        result = call()
        _drain(result)
        return result


def _offset_mismatch(w: World) -> Any:
    job = w.job([10])
    job.upload(0, b"x" * 4)
    return job.upload(0, b"y" * 3, offset=1)


def _twice(call: Callable[[], Any]) -> Any:
    call()
    return call()


def test_every_reason_has_a_case() -> None:
    assert [case.reason for case in CASES] == list(Reason)
    assert set(REASON_ERRORS) == set(Reason)


def test_proto_lists_the_same_reasons() -> None:
    """``enum ErrorReason`` in errors.proto names exactly these reasons, each with its status."""
    names = [n for n in errors_pb2.ErrorReason.keys() if n != "ERROR_REASON_UNSPECIFIED"]  # noqa: SIM118
    assert names == [r.value for r in Reason]
    text = (Path(__file__).resolve().parents[2] / "protos" / "cloudtab" / "v1" / "errors.proto").read_text()
    comments = {name: block for block, name in re.findall(r"((?:  //.*\n)+)  ([A-Z_]+) = \d+;", text)}
    for reason, spec in SPECS.items():
        block = comments[reason.value]
        assert block.startswith(f"  // {spec.status}."), f"the comment of {reason} must start with {spec.status}"
        for key in spec.metadata:
            assert f"`{key}`" in block, f"the comment of {reason} must name metadata `{key}`"


@pytest.mark.parametrize("case", CASES, ids=[c.reason.value for c in CASES])
def test_reason_reaches_bridge_and_kiosk(world: World, case: Case) -> None:
    exc = error_of(lambda: case.call(world))
    info = error_info(exc)
    assert (info.code.name, info.reason) == (case.reason.status, case.reason)
    assert dict(info.metadata) == case.metadata

    bridge = describe_relay_error(wrap_error("AnyCall", exc))
    assert (bridge.status, bridge.error) == case.http
    if case.reason == Reason.OFFSET_MISMATCH:
        assert bridge.extra == {"committed_offset": int(case.metadata["committed_offset"])}

    kiosk = map_error(exc, "calling the relay")
    assert type(kiosk) is case.kiosk
    assert (kiosk.reason, kiosk.code, kiosk.gone) == (case.reason, case.reason.status, case.gone)


def test_job_state_is_not_changed_by_refusals(world: World) -> None:
    """A refused CompleteJob (still uploading) leaves the job as it was."""
    job = world.job()
    error_of(lambda: world.kiosk.complete(job.job_id))
    assert job.get().state == JS.JOB_STATE_UPLOADING


def test_bridge_routes_answer_by_reason(world: World) -> None:
    """Through the real bridge app and client: a resumed upload at a stale offset."""
    app = create_app({"RELAY_ADDRESS": world.relay.address, "TESTING": True})
    client = app.test_client()
    job = world.job([10])
    job.upload(0, b"x" * 4)
    url = f"/api/jobs/{job.job_id}/files/0?offset=1"
    answer = client.put(url, data=b"y" * 3, headers={"Authorization": f"Bearer {job.token}"})
    assert answer.status_code == 409
    assert answer.json["error"] == "offset_mismatch" and answer.json["committed_offset"] == 4
    gone = client.get(f"/api/jobs/{job.job_id}", headers={"Authorization": "Bearer " + "x" * 43})
    assert (gone.status_code, gone.json["error"]) == (401, "unauthorized")


def test_kiosk_client_raises_update_needed(world: World) -> None:
    """Through the real kiosk client: a relay that needs a newer kiosk."""
    config = world.relay.relay.config
    _slug, code = world.relay.add_shop("Newer Only")
    client = KioskRelayClient(world.relay.address)
    saved, config.min_kiosk_version = config.min_kiosk_version, "99.0.0"
    try:
        with pytest.raises(UpdateNeeded, match="99.0.0"):
            client.enroll(code, world.kiosk.public_key)
    finally:
        config.min_kiosk_version = saved
        client.close()
    with pytest.raises(NotAuthorized):
        KioskRelayClient(world.relay.address, token="x" * 43).get_job("f" * 32)
