"""GCS-only blob store behaviour: outages, restarts, prefixes, lifecycle rule."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from google.cloud import storage

from relay_grpc.store.blobs import BlobStoreUnavailableError
from relay_grpc.store.blobs.gcs import GcsBlobStore, make_client
from relay_grpc.store.blobs.lifecycle import delete_rule, merge_delete_rule
from tests.fixtures.gcs import GcsEmulator


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_emulator_down_is_unavailable_quickly_then_recovers(gcs_emulator: GcsEmulator, gcs_bucket: str) -> None:
    async def scenario() -> None:
        store = GcsBlobStore.from_env(bucket=gcs_bucket, prefix="p", connect_timeout=1.0, retry_timeout=2.0)
        key = "jobs/outage/0"
        assert await store.append(key, 0, b"before") == 6
        await store.check()
        gcs_emulator.stop()
        try:
            for call in (
                lambda: store.append(key, 6, b"during"),
                lambda: store.size(key),
                lambda: store.read(key, 0, 6),
                store.check,
            ):
                started = time.monotonic()
                with pytest.raises(BlobStoreUnavailableError):
                    await call()
                assert time.monotonic() - started < 6.0
        finally:
            gcs_emulator.start()
        await store.check()
        assert await store.size(key) == 6  # the failed append left nothing behind
        assert await store.append(key, 6, b" after") == 12
        assert await store.read(key, 0, 100) == b"before after"
        await store.close()

    run(scenario())


def test_missing_bucket_is_unavailable(gcs_emulator: GcsEmulator) -> None:
    async def scenario() -> None:
        store = GcsBlobStore.from_env(bucket="no-such-bucket-here", retry_timeout=1.0)
        with pytest.raises(BlobStoreUnavailableError, match="does not exist"):
            await store.check()
        await store.close()

    run(scenario())


def test_prefix_isolates_and_names_objects(gcs_emulator: GcsEmulator, gcs_bucket: str) -> None:
    async def scenario() -> None:
        one = GcsBlobStore.from_env(bucket=gcs_bucket, prefix="relay-a")
        two = GcsBlobStore.from_env(bucket=gcs_bucket, prefix="relay-b/")
        await one.append("jobs/x/0", 0, b"aaa")
        await one.append("jobs/x/0", 3, b"bb")
        await two.append("jobs/y/0", 0, b"c")
        assert await one.list_keys() == ["jobs/x/0"]
        assert await two.list_keys() == ["jobs/y/0"]
        assert await two.delete_prefix("") == 1
        assert await one.size("jobs/x/0") == 5
        await one.close()
        await two.close()

    run(scenario())
    client = make_client()
    names = sorted(blob.name for blob in client.list_blobs(gcs_bucket))
    assert names == ["relay-a/jobs/x/0/.00000000000000000000", "relay-a/jobs/x/0/.00000000000000000003"]
    client.close()


def test_ensure_lifecycle_sends_delete_rule(gcs_emulator: GcsEmulator, gcs_bucket: str) -> None:
    async def scenario() -> list[dict[str, Any]]:
        store = GcsBlobStore.from_env(bucket=gcs_bucket, prefix="relay")
        with pytest.raises(ValueError):
            await store.ensure_lifecycle(0)
        rules = await store.ensure_lifecycle(days=1)
        again = await store.ensure_lifecycle(days=2)
        await store.close()
        assert {"action": {"type": "Delete"}, "condition": {"age": 1, "matchesPrefix": ["relay/"]}} in rules
        assert {"action": {"type": "Delete"}, "condition": {"age": 2, "matchesPrefix": ["relay/"]}} in again
        assert all(rule["condition"].get("age") != 1 for rule in again)  # replaced, not stacked
        return again

    sent = run(scenario())
    # fake-gcs-server 1.54 does not store lifecycle rules; check the read-back where it does.
    bucket: storage.Bucket = make_client().get_bucket(gcs_bucket)
    stored = list(bucket.lifecycle_rules)
    if stored:
        assert stored == sent


def test_merge_delete_rule_keeps_foreign_rules() -> None:
    foreign = {"action": {"type": "SetStorageClass", "storageClass": "NEARLINE"}, "condition": {"age": 30}}
    other_prefix = {"action": {"type": "Delete"}, "condition": {"age": 7, "matchesPrefix": ["other/"]}}
    ours_old = {"action": {"type": "Delete"}, "condition": {"age": 3, "matchesPrefix": ["relay/"]}}
    merged = merge_delete_rule([foreign, other_prefix, ours_old], 1, "relay/")
    assert merged == [foreign, other_prefix, delete_rule(1, "relay/")]
    assert merge_delete_rule(merged, 1, "relay/") is None
    assert delete_rule(2, "") == {"action": {"type": "Delete"}, "condition": {"age": 2}}
    with pytest.raises(ValueError):
        delete_rule(0, "relay/")
