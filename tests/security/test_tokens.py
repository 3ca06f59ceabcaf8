"""Tokens and access through a real relay (docs/security.md T1-T8).

One relay process (SQLite + local folder) for the module, two enrolled shops,
one submitted job of shop A. Every RPC that needs a token is tried with the
wrong one and must answer the exact status the API promises.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from cloudtab.v1 import (
    common_pb2,
    customer_jobs_pb2_grpc,
    shop_jobs_pb2_grpc,
)
from cloudtab.v1 import (
    customer_jobs_pb2 as cj,
)
from cloudtab.v1 import (
    shop_jobs_pb2 as sj,
)

from tests.fixtures.faults import Customer, Kiosk, PlainFile, bearer, rpc_code

PDF = PlainFile("a.pdf", "application/pdf", b"%PDF-1.4 token test " * 500)
RANDOM_TOKEN = "Qk9HVVMtdG9rZW4tdGhhdC1sb29rcy1yaWdodC0xMjM"  # 43 chars, right shape, unknown


@pytest.fixture(scope="module")
def world(module_relay_procs: Any) -> dict[str, Any]:
    relay = module_relay_procs(name="tokens")
    channel = relay.channel()
    slug_a, code_a = relay.add_shop("Shop A")
    slug_b, code_b = relay.add_shop("Shop B")
    shop_a = Kiosk.enroll(channel, code_a, slug_a)
    shop_b = Kiosk.enroll(channel, code_b, slug_b)
    customer = Customer(channel)
    job = customer.send(shop_a.slug, [PDF], public_key=shop_a.public_key)
    other = customer.send(shop_a.slug, [PDF], public_key=shop_a.public_key)
    return {
        "relay": relay,
        "channel": channel,
        "a": shop_a,
        "b": shop_b,
        "customer": customer,
        "job": job,
        "other": other,
    }


def shop_calls(channel: grpc.Channel, job_id: str) -> dict[str, Callable[[Any], Any]]:
    """Every ShopJobs RPC that needs a token, as f(metadata)."""
    stub = shop_jobs_pb2_grpc.ShopJobsServiceStub(channel)
    t = 5
    return {
        "RotateKey": lambda md: stub.RotateKey(
            sj.RotateKeyRequest(public_key=b"\x04" + b"\x01" * 64), metadata=md, timeout=t
        ),
        "SubscribeJobs": lambda md: stub.SubscribeJobs(
            sj.SubscribeJobsRequest(kiosk_version="0.1.0"), metadata=md, timeout=t
        ),
        "GetJob": lambda md: stub.GetJob(sj.ShopJobsServiceGetJobRequest(job_id=job_id), metadata=md, timeout=t),
        "DownloadFile": lambda md: stub.DownloadFile(sj.DownloadFileRequest(job_id=job_id), metadata=md, timeout=t),
        "UpdateJob": lambda md: stub.UpdateJob(
            sj.UpdateJobRequest(job_id=job_id, state=common_pb2.JOB_STATE_RECEIVED), metadata=md, timeout=t
        ),
        "CompleteJob": lambda md: stub.CompleteJob(sj.CompleteJobRequest(job_id=job_id), metadata=md, timeout=t),
        "RejectJob": lambda md: stub.RejectJob(
            sj.RejectJobRequest(job_id=job_id, reason="printer"), metadata=md, timeout=t
        ),
    }


def customer_calls(channel: grpc.Channel, job_id: str) -> dict[str, Callable[[Any], Any]]:
    """Every CustomerJobs RPC that needs a token, as f(metadata)."""
    stub = customer_jobs_pb2_grpc.CustomerJobsServiceStub(channel)
    t = 5

    def upload(md: Any) -> Any:
        header = cj.UploadFileRequest(header=cj.UploadFileHeader(job_id=job_id, file_index=0, offset=0))
        return stub.UploadFile(iter([header, cj.UploadFileRequest(data=b"x")]), metadata=md, timeout=t)

    return {
        "UploadFile": upload,
        "GetUploadOffset": lambda md: stub.GetUploadOffset(
            cj.GetUploadOffsetRequest(job_id=job_id), metadata=md, timeout=t
        ),
        "SubmitJob": lambda md: stub.SubmitJob(
            cj.SubmitJobRequest(job_id=job_id, sealed_manifest=b"x" * 200), metadata=md, timeout=t
        ),
        "CancelJob": lambda md: stub.CancelJob(cj.CancelJobRequest(job_id=job_id), metadata=md, timeout=t),
        "GetJob": lambda md: stub.GetJob(cj.GetJobRequest(job_id=job_id), metadata=md, timeout=t),
        "WatchJob": lambda md: stub.WatchJob(cj.WatchJobRequest(job_id=job_id), metadata=md, timeout=t),
    }


def all_calls(world: dict[str, Any]) -> dict[str, Callable[[Any], Any]]:
    job_id = world["job"].job_id
    calls = {f"shop.{k}": v for k, v in shop_calls(world["channel"], job_id).items()}
    calls.update({f"customer.{k}": v for k, v in customer_calls(world["channel"], job_id).items()})
    return calls


def codes_for(calls: dict[str, Callable[[Any], Any]], metadata: Any) -> dict[str, Any]:
    return {name: rpc_code(lambda fn=fn: fn(metadata)) for name, fn in calls.items()}


def test_missing_token_is_unauthenticated(world: dict[str, Any]) -> None:
    codes = codes_for(all_calls(world), ())
    assert codes == {name: grpc.StatusCode.UNAUTHENTICATED for name in codes}


MALFORMED = [
    "",
    "Bearer",
    "Bearer ",
    "Basic dXNlcjpwYXNz",
    "Token " + RANDOM_TOKEN,
    "Bearer " + RANDOM_TOKEN[:10],
    "Bearer " + "A" * 4000,
    "Bearer a.b.c",
    "Bearer %00%00",
    "Bearer " + RANDOM_TOKEN + " " + RANDOM_TOKEN,
    "Bearer " + RANDOM_TOKEN,
]


@pytest.mark.parametrize("header", MALFORMED, ids=lambda h: h[:20] or "empty")
def test_malformed_token_is_unauthenticated(world: dict[str, Any], header: str) -> None:
    codes = codes_for(all_calls(world), (("authorization", header),))
    assert codes == {name: grpc.StatusCode.UNAUTHENTICATED for name in codes}


def test_other_shop_job_is_not_found(world: dict[str, Any]) -> None:
    job_id = world["job"].job_id
    calls = shop_calls(world["channel"], job_id)
    del calls["RotateKey"], calls["SubscribeJobs"]
    codes = codes_for(calls, bearer(world["b"].token))
    assert codes == {name: grpc.StatusCode.NOT_FOUND for name in codes}
    # Same answer as a job that does not exist at all.
    missing = codes_for(shop_calls(world["channel"], "f" * 32), bearer(world["b"].token))
    assert {k: v for k, v in missing.items() if k in codes} == codes
    # Shop B's stream never carries shop A's jobs: only heartbeats arrive.
    call = world["b"].subscribe(0, timeout=4)
    seen = []
    try:
        for message in call:
            seen.append(message.WhichOneof("item"))
            if len(seen) >= 2:
                break
    finally:
        call.cancel()
    assert seen and set(seen) == {"heartbeat"}, seen
    # And shop A's untouched job is still intact for shop A.
    _, files = world["a"].open(job_id)
    assert files == [PDF.data]


def test_revoked_shop_token_is_unauthenticated(world: dict[str, Any]) -> None:
    relay, channel = world["relay"], world["channel"]
    slug, code = relay.add_shop("Shop Revoked")
    shop = Kiosk.enroll(channel, code, slug)
    job = world["customer"].send(shop.slug, [PDF], public_key=shop.public_key)
    assert shop.get_job(job.job_id).job_id == job.job_id
    stream = shop.subscribe(0, timeout=30)
    first = next(stream)
    assert first.WhichOneof("item") == "event"
    relay.cli("shop", "revoke", slug)
    codes = codes_for(shop_calls(channel, job.job_id), bearer(shop.token))
    assert codes == {name: grpc.StatusCode.UNAUTHENTICATED for name in codes}
    # An open subscription does not outlive the revocation by more than a few seconds.
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as ended:
        for _ in stream:
            if time.monotonic() - started > 15:
                break
    assert ended.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert time.monotonic() - started < 15


def test_customer_token_on_shop_jobs_is_unauthenticated(world: dict[str, Any]) -> None:
    codes = codes_for(shop_calls(world["channel"], world["job"].job_id), bearer(world["job"].token))
    assert codes == {name: grpc.StatusCode.UNAUTHENTICATED for name in codes}


def test_foreign_token_on_customer_job_is_unauthenticated(world: dict[str, Any]) -> None:
    calls = customer_calls(world["channel"], world["job"].job_id)
    for token in (world["a"].token, world["b"].token, world["other"].token):
        codes = codes_for(calls, bearer(token))
        assert codes == {name: grpc.StatusCode.UNAUTHENTICATED for name in codes}
    # A job id that does not exist, with a genuine token: the same answer.
    missing = codes_for(customer_calls(world["channel"], "0" * 32), bearer(world["job"].token))
    assert missing == {name: grpc.StatusCode.UNAUTHENTICATED for name in missing}
    # The genuine owner still reads it.
    assert world["customer"].get(world["job"]).job_id == world["job"].job_id


def test_job_code_alone_gives_nothing(world: dict[str, Any]) -> None:
    code = world["job"].job_code
    assert len(code) == 6
    customer = codes_for(customer_calls(world["channel"], code), bearer(world["other"].token))
    assert customer == {name: grpc.StatusCode.UNAUTHENTICATED for name in customer}
    shop = shop_calls(world["channel"], code)
    del shop["RotateKey"], shop["SubscribeJobs"]
    by_shop = codes_for(shop, bearer(world["a"].token))
    assert by_shop == {name: grpc.StatusCode.NOT_FOUND for name in by_shop}
    # The code is never part of what the customer's view exposes as a key.
    assert code not in world["job"].token and code != world["job"].job_id


def test_create_job_is_rate_limited(module_relay_procs: Any) -> None:
    relay = module_relay_procs(name="ratelimited", env={"CLOUDTAB_RELAY_CREATE_JOB_RATE": "5"})
    channel = relay.channel()
    slug, code = relay.add_shop("Busy Shop")
    kiosk = Kiosk.enroll(channel, code, slug)
    customer = Customer(channel)
    outcomes = []
    for _ in range(8):
        try:
            customer.create(slug, [PDF], public_key=kiosk.public_key)
            outcomes.append("ok")
        except grpc.RpcError as exc:
            outcomes.append(exc.code())
    assert outcomes[:5] == ["ok"] * 5
    assert outcomes[5:] == [grpc.StatusCode.RESOURCE_EXHAUSTED] * 3
