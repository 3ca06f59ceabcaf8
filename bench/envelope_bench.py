"""Envelope throughput: Python open vs bare AES-GCM, WebCrypto seal and sha256.js in Chromium.

Not a test. Run: ``PYTHONPATH=. python -m bench.envelope_bench [--mb 64]``.
``run()`` (= ``figures()``) returns the numbers as dicts {figure, value, unit, baseline,
ratio, target} for ``python -m bench`` to aggregate.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import math
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from envelope import (
    FileEntry,
    Manifest,
    generate_private_key,
    new_content_key,
    public_key_bytes,
    public_key_from_bytes,
    seal_manifest,
)
from envelope.stream import (
    RECORD_SIZE,
    SEALED_RECORD_SIZE,
    file_key,
    open_records,
    open_stream,
    seal_bytes,
)
from kiosk.core.decrypt import decrypt_file, open_job_manifest

PYTHON_TARGET_RATIO = 0.8
BROWSER_TARGET_MBS = 200.0
SHA256_TARGET_MBS = 150.0


def _times(fn: Callable[[], object], repeat: int) -> list[float]:
    """Seconds of each of ``repeat`` runs (after one warm-up run)."""
    fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def python_figures(size: int, repeat: int = 5) -> list[dict[str, Any]]:
    """Open throughput of the record stream vs a bare AES-GCM loop over the same bytes."""
    key = file_key(os.urandom(32), 0)
    data = os.urandom(size)
    sealed = seal_bytes(key, data)
    count = -(-len(sealed) // SEALED_RECORD_SIZE)

    def bare() -> None:
        aead = AESGCM(key)
        view = memoryview(sealed)
        for n in range(count):
            nonce = n.to_bytes(11, "big") + (b"\x01" if n == count - 1 else b"\x00")
            aead.decrypt(nonce, view[n * SEALED_RECORD_SIZE : (n + 1) * SEALED_RECORD_SIZE], None)

    def records() -> None:  # in memory, as the kiosk opens a downloaded file
        for _ in open_records(key, sealed):
            pass

    def records_file() -> None:  # from a file object (one read per record)
        for _ in open_records(key, io.BytesIO(sealed)):
            pass

    def full() -> None:
        open_stream(key, io.BytesIO(sealed), io.BytesIO())

    # The kiosk's real path: kiosk.core.decrypt_file (records + SHA-256 + copy into
    # the job's buffer), against a bare loop doing the same work with no envelope code.
    private = generate_private_key()
    content_key = new_content_key()
    kiosk_sealed = seal_bytes(file_key(content_key, 0), data)
    entry = FileEntry(name="bench.pdf", type="application/pdf", size=len(data), sha256=hashlib.sha256(data).hexdigest())
    manifest = open_job_manifest(
        seal_manifest(
            Manifest(content_key=content_key, files=(entry,)),
            public_key_from_bytes(public_key_bytes(private)),
            "benchjob",
        ),
        private,
        "benchjob",
    )

    def kiosk() -> None:
        decrypt_file(manifest, 0, kiosk_sealed)

    def bare_kiosk() -> None:
        aead = AESGCM(key)
        view = memoryview(sealed)
        out = bytearray(len(data))
        digest = hashlib.sha256()
        pos = 0
        for n in range(count):
            nonce = n.to_bytes(11, "big") + (b"\x01" if n == count - 1 else b"\x00")
            record = aead.decrypt(nonce, view[n * SEALED_RECORD_SIZE : (n + 1) * SEALED_RECORD_SIZE], None)
            out[pos : pos + len(record)] = record
            digest.update(record)
            pos += len(record)

    mb = size / 1e6
    rates = {name: [mb / t for t in _times(fn, repeat)] for name, fn in (
        ("bare", bare), ("records", records), ("file", records_file), ("full", full), ("kiosk", kiosk),
        ("bare_kiosk", bare_kiosk))}  # fmt: skip
    return [
        {
            "figure": "kiosk decrypt, the kiosk's real path (kiosk.core decrypt_file: records + SHA-256 + copy); "
            "baseline: bare AES-GCM + SHA-256 + copy loop, same bytes",
            "samples": rates["kiosk"],
            "unit": "MB/s",
            "baseline_samples": rates["bare_kiosk"],
            "target": f">= {PYTHON_TARGET_RATIO}x",
        },
        {
            "figure": "envelope python open_records (records only, in memory); baseline: bare AES-GCM loop",
            "samples": rates["records"],
            "unit": "MB/s",
            "baseline_samples": rates["bare"],
            "target": None,
        },
        {
            "figure": "envelope python open_records (records, from a file object); baseline: bare AES-GCM loop",
            "samples": rates["file"],
            "unit": "MB/s",
            "baseline_samples": rates["bare"],
            "target": None,
        },
        {
            "figure": "envelope python open_stream (records + sha256 + copy to a file object); "
            "baseline: bare AES-GCM loop (does less)",
            "samples": rates["full"],
            "unit": "MB/s",
            "baseline_samples": rates["bare"],
            "target": None,
        },
    ]


def page_slice_size() -> int:
    """The slice size the upload page encrypts with (SLICE_SIZE in static/js/uploader.js)."""
    text = (Path(__file__).resolve().parents[1] / "web_bridge" / "static" / "js" / "uploader.js").read_text()
    match = re.search(r"export const SLICE_SIZE = ([0-9* ]+);", text)
    if match is None:
        raise RuntimeError("SLICE_SIZE not found in uploader.js")
    return math.prod(int(x) for x in match.group(1).split("*"))


BROWSER_JS = """async ([size, sliceSize]) => {
  const { envelope } = window.cloudtab;
  const key = await envelope.deriveFileKey(crypto.getRandomValues(new Uint8Array(32)), 0);
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
  const blob = new Blob([bytes]);
  const runs = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    let n = 0;
    for await (const c of envelope.encryptFile(blob, key, { sliceSize })) n += c.bytes.length;
    runs.push(performance.now() - t0);
  }
  const aes = await crypto.subtle.importKey("raw", crypto.getRandomValues(new Uint8Array(32)), "AES-GCM", false, ["encrypt"]);
  const t1 = performance.now();
  await crypto.subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, aes, bytes);
  const bare = performance.now() - t1;
  return { best: Math.min(...runs), bare };
}"""


# sha256.js (incremental, pure JS) vs WebCrypto's one-shot digest of the same bytes;
# then envelope.sha256Hex streaming a Blob in 4 MiB slices (read + hash), as the page does.
SHA256_JS = """async (size) => {
  const { envelope, sha256 } = window.cloudtab;
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
  const blob = new Blob([bytes]);
  const step = envelope.SLICE_SIZE;
  const hex = (d) => Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
  const best = async (fn) => {
    let t = Infinity, out = null;
    for (let r = 0; r < 6; r++) {  // best of 6: the first runs also warm the JIT up
      const t0 = performance.now();
      out = await fn();
      t = Math.min(t, performance.now() - t0);
    }
    return [t, out];
  };
  const [js, jsHex] = await best(async () => {
    const h = new sha256.Sha256();
    for (let at = 0; at < size; at += step) h.update(bytes.subarray(at, at + step));
    return hex(h.digest());
  });
  const [blobMs, blobHex] = await best(() => envelope.sha256Hex(blob));
  const [bare, bareHex] = await best(async () => hex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))));
  return { js, blob: blobMs, bare, same: jsHex === bareHex && blobHex === bareHex };
}"""


def _sha256_rows(size: int, result: dict[str, Any] | None) -> list[dict[str, Any]]:
    names = (
        ("js", "sha256.js Sha256 (4 MiB updates) vs WebCrypto one-shot"),
        ("blob", "sha256Hex(Blob) streaming 4 MiB slices vs WebCrypto one-shot"),
    )
    if result is None:
        return [
            {
                "figure": name,
                "value": None,
                "unit": "MB/s",
                "baseline": None,
                "ratio": None,
                "target": f">= {SHA256_TARGET_MBS:g}",
                "note": "chromium unavailable",
            }
            for _, name in names
        ]
    if not result["same"]:
        raise RuntimeError("sha256.js and WebCrypto disagree")
    mb = size / 1e6
    bare = mb / (result["bare"] / 1000)
    rows = []
    for key, name in names:
        value = mb / (result[key] / 1000)
        rows.append(
            {
                "figure": name,
                "value": round(value, 1),
                "unit": "MB/s",
                "baseline": round(bare, 1),
                "ratio": round(value / bare, 3),
                "target": f">= {SHA256_TARGET_MBS:g}",
            }
        )
    return rows


def browser_figures(size: int) -> list[dict[str, Any]]:
    """WebCrypto seal throughput (File/Blob -> records) in headless Chromium."""
    from playwright.sync_api import expect, sync_playwright

    from tests.envelope.conftest import harness_routes
    from tests.fixtures.browser import StaticServer, chromium_available, launch_chromium

    if not chromium_available():
        return [
            {
                "figure": "envelope webcrypto seal",
                "value": None,
                "unit": "MB/s",
                "baseline": None,
                "ratio": None,
                "target": f">= {BROWSER_TARGET_MBS:g}",
                "note": "chromium unavailable",
            }
        ] + _sha256_rows(size, None)
    with StaticServer(harness_routes()) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page()
            page.goto(server.url + "/")
            expect(page.locator("body")).to_have_attribute("data-ready", "1")
            result = page.evaluate(BROWSER_JS, [size, page_slice_size()])
            sha = page.evaluate(SHA256_JS, size)
        finally:
            browser.close()
    mb = size / 1e6
    value = mb / (result["best"] / 1000)
    bare = mb / (result["bare"] / 1000)
    return [
        {
            "figure": f"envelope webcrypto seal (Blob, {page_slice_size() // 1024} KiB slices as the page uses)",
            "value": round(value, 1),
            "unit": "MB/s",
            "baseline": round(bare, 1),
            "ratio": round(value / bare, 3),
            "target": f">= {BROWSER_TARGET_MBS:g}",
        }
    ] + _sha256_rows(size, sha)


def figures(mb: int = 64) -> list[dict[str, Any]]:
    """All envelope figures for a payload of ``mb`` megabytes."""
    size = mb * 1_000_000 // RECORD_SIZE * RECORD_SIZE + 123
    return python_figures(size) + browser_figures(size)


def run() -> list[dict[str, Any]]:
    """The bench contract of ``python -m bench``: all figures at the default size."""
    return figures()


def main() -> int:
    """Print the figures as a small table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=64, help="payload size in MB (default 64)")
    rows = figures(parser.parse_args().mb)
    print(f"{'figure':62} {'value':>9} {'unit':5} {'baseline':>9} {'ratio':>6} {'target':>7}")
    for r in rows:
        print(
            f"{r['figure']:62} {r['value']!s:>9} {r['unit']:5} {r['baseline']!s:>9} {r['ratio']!s:>6} {r['target']!s:>7}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
