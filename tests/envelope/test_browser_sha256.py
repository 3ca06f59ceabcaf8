"""The browser's incremental SHA-256 (sha256.js) against hashlib and WebCrypto.

In real headless Chromium under the strict CSP: ``Sha256`` at every padding edge
(0, 1, 55, 56, 63, 64, 65 … bytes) fed in one update and in random-size updates,
a 5 MB input in random-size updates, and ``envelope.sha256Hex(Blob)`` streaming a
20 MB Blob. A spying Blob (browser_harness.js) records every read, so the tests
fail if the whole file is ever read at once.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
from typing import Any

import pytest

EDGE_SIZES = [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 65536, 65537]
SLICE_SIZE = 4 * 1024 * 1024  # envelope.SLICE_SIZE


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def random_splits(size: int, seed: int, largest: int) -> list[int]:
    """Update sizes summing to ``size``, including empty updates."""
    rng = random.Random(seed)
    splits: list[int] = []
    left = size
    while left > 0:
        n = min(left, rng.choice([0, 1, 3, 63, 64, 65, rng.randint(0, largest)]))
        splits.append(n)
        left -= n
    return splits


HASH_PARTS_JS = """async ([data, splits]) => {
  const { sha256, fromB64, toHex } = window.cloudtab;
  const bytes = fromB64(data);
  const whole = new sha256.Sha256().update(bytes).digest();
  const h = new sha256.Sha256();
  let at = 0;
  for (const n of splits) {
    h.update(bytes.subarray(at, at + n));
    at += n;
  }
  const webcrypto = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return { whole: toHex(whole), parts: toHex(h.digest()), fed: h.length, webcrypto: toHex(webcrypto) };
}"""


@pytest.mark.parametrize("size", EDGE_SIZES)
def test_sha256_matches_hashlib_at_block_edges(page: Any, size: int) -> None:
    data = os.urandom(size)
    splits = random_splits(size, seed=size, largest=130)
    got = page.evaluate(HASH_PARTS_JS, [b64(data), splits])
    want = hashlib.sha256(data).hexdigest()
    assert got == {"whole": want, "parts": want, "fed": size, "webcrypto": want}


def test_sha256_5mb_in_random_updates(page: Any) -> None:
    data = os.urandom(5_000_000)
    splits = random_splits(len(data), seed=5, largest=300_000)
    assert len(splits) > 20
    got = page.evaluate(HASH_PARTS_JS, [b64(data), splits])
    want = hashlib.sha256(data).hexdigest()
    assert got == {"whole": want, "parts": want, "fed": len(data), "webcrypto": want}


def test_sha256_api_edges(page: Any) -> None:
    got = page.evaluate(
        """() => {
          const { sha256, toHex } = window.cloudtab;
          const h = new sha256.Sha256().update(new TextEncoder().encode("abc"));
          const first = toHex(h.digest());
          const second = toHex(h.digest());
          let afterDigest = "accepted", badType = "accepted";
          try { h.update(new Uint8Array(1)); } catch (e) { afterDigest = e.constructor.name; }
          try { new sha256.Sha256().update("abc"); } catch (e) { badType = e.constructor.name; }
          const views = [new Uint8Array([97, 98, 99]).buffer, new DataView(new Uint8Array([120, 97, 98, 99, 121]).buffer, 1, 3)];
          return { first, second, afterDigest, badType,
                   views: views.map((v) => toHex(sha256.sha256(v))) };
        }"""
    )
    abc = hashlib.sha256(b"abc").hexdigest()
    assert got == {
        "first": abc,
        "second": abc,
        "afterDigest": "Error",
        "badType": "TypeError",
        "views": [abc, abc],
    }


SPY_HASH_JS = """async ([seed, copies, sliceSize]) => {
  const { envelope, SpyBlob, fromB64 } = window.cloudtab;
  const block = fromB64(seed);
  const parts = [];
  for (let i = 0; i < copies; i++) parts.push(new Uint8Array([i]), block);
  const blob = new SpyBlob(parts);
  const digest = await envelope.sha256Hex(blob, sliceSize ? { sliceSize } : {});
  return { digest, size: blob.size, reads: blob.reads };
}"""


def spy_hash(page: Any, copies: int, slice_size: int | None) -> tuple[bytes, Any]:
    """Hash a Blob of ``copies`` numbered copies of a random block in the page."""
    seed = os.urandom(1_000_003)  # not a divisor of any slice: a misplaced read shows
    data = b"".join(bytes([i]) + seed for i in range(copies))
    return data, page.evaluate(SPY_HASH_JS, [b64(seed), copies, slice_size])


def test_sha256hex_streams_a_20mb_blob(page: Any) -> None:
    data, got = spy_hash(page, copies=20, slice_size=None)
    assert got["size"] == len(data) > 20_000_000
    assert got["digest"] == hashlib.sha256(data).hexdigest()
    reads = got["reads"]
    assert not [r for r in reads if r["whole"]], "sha256Hex read the whole Blob at once"
    assert max(r["size"] for r in reads) <= SLICE_SIZE
    assert sum(r["size"] for r in reads) == len(data)
    assert len(reads) == -(-len(data) // SLICE_SIZE)


@pytest.mark.parametrize("slice_size", [1, 1000, 65537, 1 << 20])
def test_sha256hex_slice_sizes(page: Any, slice_size: int) -> None:
    copies = 1 if slice_size < 1000 else 3
    if slice_size == 1:
        data = os.urandom(300)
        got = page.evaluate(
            """async ([data]) => {
              const { envelope, SpyBlob, fromB64 } = window.cloudtab;
              const blob = new SpyBlob([fromB64(data)]);
              return { digest: await envelope.sha256Hex(blob, { sliceSize: 1 }), reads: blob.reads };
            }""",
            [b64(data)],
        )
    else:
        data, got = spy_hash(page, copies=copies, slice_size=slice_size)
    assert got["digest"] == hashlib.sha256(data).hexdigest()
    assert not [r for r in got["reads"] if r["whole"]]
    assert max(r["size"] for r in got["reads"]) <= slice_size
    assert sum(r["size"] for r in got["reads"]) == len(data)


def test_sha256hex_empty_blob_and_bytes(page: Any) -> None:
    got = page.evaluate(
        """async () => {
          const { envelope, SpyBlob, pattern } = window.cloudtab;
          const empty = new SpyBlob([]);
          return { empty: await envelope.sha256Hex(empty), reads: empty.reads.length,
                   bytes: await envelope.sha256Hex(pattern(70000)) };
        }"""
    )
    pattern = bytes(i % 251 for i in range(70000))
    assert got == {
        "empty": hashlib.sha256(b"").hexdigest(),
        "reads": 0,
        "bytes": hashlib.sha256(pattern).hexdigest(),
    }


def test_sha256hex_rejects_bad_slice_and_honours_abort(page: Any) -> None:
    got = page.evaluate(
        """async () => {
          const { envelope, SpyBlob, pattern } = window.cloudtab;
          const blob = new SpyBlob([pattern(300000)]);
          const outcome = async (p) => { try { await p; return "resolved"; } catch (e) { return e.name; } };
          const controller = new AbortController();
          controller.abort();
          return {
            zero: await outcome(envelope.sha256Hex(blob, { sliceSize: 0 })),
            aborted: await outcome(envelope.sha256Hex(blob, { sliceSize: 65536, signal: controller.signal })),
            reads: blob.reads.length,
          };
        }"""
    )
    # Aborted before hashing: at most the first slice (already in flight) was read.
    assert got["zero"] == "RangeError"
    assert got["aborted"] == "AbortError"
    assert got["reads"] <= 1
