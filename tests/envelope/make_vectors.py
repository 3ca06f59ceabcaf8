"""Regenerate tests/data/envelope_vectors.json (run: python -m tests.envelope.make_vectors).

The output is deterministic: fixed shop key, content key, ephemeral key and
file contents. The committed file is the reference; tests check that Python
and the browser reproduce it byte for byte, so regenerate only on purpose.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from envelope.b64 import b64url_encode
from envelope.keys import fingerprint, fingerprint_display, public_key_bytes
from envelope.manifest import (
    Customer,
    FileEntry,
    JobOptions,
    Manifest,
    job_info,
    reply_info,
)
from envelope.stream import RECORD_SIZE, ciphertext_size, file_key, seal_bytes
from tests.envelope.hpke_ref import private_key_from_hex, seal_base

VECTOR_PATH = Path(__file__).resolve().parents[1] / "data" / "envelope_vectors.json"
SHOP_SCALAR = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721"
EPHEMERAL_SCALAR = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
REPLY_SCALAR = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
REPLY_EPHEMERAL_SCALAR = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
REPLY_PLAINTEXT = '{"example":"details the kiosk seals back","é":1}'
COPIES = [1, 1, 3, 1, 2]
PAGE_RANGES = ["", "", "", "1", "1-3,5"]
CONTENT_KEY = bytes(range(32))
JOB_ID = "job-7Q2X9K"
PATTERN = "byte i = i mod 251"
SIZES = [0, 1, 29, 65536, 65537]
NAMES = ["empty.txt", "one.bin", "poem.txt", "exact-record.bin", "record-plus-one.pdf"]
TYPES = [
    "text/plain",
    "application/octet-stream",
    "text/plain",
    "application/octet-stream",
    "application/pdf",
]
INLINE_LIMIT = 64


def pattern_bytes(size: int) -> bytes:
    """Deterministic file content: byte i = i mod 251."""
    return bytes(i % 251 for i in range(size))


def file_content(index: int) -> bytes:
    """Content of vector file ``index`` (the 29-byte one is text)."""
    if SIZES[index] == 29:
        return b"Beauty is truth, truth beauty"
    return pattern_bytes(SIZES[index])


def build() -> dict[str, Any]:
    """The whole vector document."""
    shop = private_key_from_hex(SHOP_SCALAR)
    eph = private_key_from_hex(EPHEMERAL_SCALAR)
    pub = public_key_bytes(shop)
    contents = [file_content(i) for i in range(len(SIZES))]
    entries = tuple(
        FileEntry(
            name=NAMES[i],
            type=TYPES[i],
            size=len(c),
            sha256=hashlib.sha256(c).hexdigest(),
            copies=COPIES[i],
            page_ranges=PAGE_RANGES[i],
        )
        for i, c in enumerate(contents)
    )
    manifest = Manifest(
        content_key=CONTENT_KEY,
        files=entries,
        customer=Customer(name="Zoë Ångström", note='2 copies, "stapled" please'),
        options=JobOptions(
            color="color",
            sides="two-sided-long-edge",
            media="A4",
            pages_per_sheet=2,
            orientation="landscape",
        ),
        reply_key=public_key_bytes(reply := private_key_from_hex(REPLY_SCALAR)),
    )
    manifest_json = manifest.to_json()
    sealed = seal_base(pub_key := shop.public_key(), eph, job_info(JOB_ID), manifest_json)
    del pub_key
    sealed_reply = seal_base(
        reply.public_key(),
        private_key_from_hex(REPLY_EPHEMERAL_SCALAR),
        reply_info(JOB_ID),
        REPLY_PLAINTEXT.encode("utf-8"),
    )
    files = []
    for i, content in enumerate(contents):
        key = file_key(CONTENT_KEY, i)
        ct = seal_bytes(key, content)
        item: dict[str, Any] = {
            "index": i,
            "size": len(content),
            "content": "inline" if len(content) <= INLINE_LIMIT else PATTERN,
            "sha256": hashlib.sha256(content).hexdigest(),
            "file_key": key.hex(),
            "ciphertext_size": ciphertext_size(len(content)),
            "ciphertext_sha256": hashlib.sha256(ct).hexdigest(),
        }
        if len(content) <= INLINE_LIMIT:
            item["plaintext"] = content.hex()
            item["ciphertext"] = ct.hex()
        else:
            item["first_record_tag"] = ct[RECORD_SIZE : RECORD_SIZE + 16].hex()
            item["ciphertext_tail_32"] = ct[-32:].hex()
        files.append(item)
    return {
        "description": "CloudTab envelope test vectors, manifest format 2 (docs/envelope.md); format 1 vectors are in envelope_vectors_v1.json. Regenerate with python -m tests.envelope.make_vectors; Python and browser tests reproduce every byte.",
        "shop_private_scalar": SHOP_SCALAR,
        "shop_public_key": b64url_encode(pub),
        "shop_public_key_hex": pub.hex(),
        "fingerprint": fingerprint(pub).hex(),
        "fingerprint_display": fingerprint_display(pub),
        "ephemeral_private_scalar": EPHEMERAL_SCALAR,
        "job_id": JOB_ID,
        "hpke_info": job_info(JOB_ID).hex(),
        "content_key": CONTENT_KEY.hex(),
        "manifest_json": manifest_json.decode("utf-8"),
        "sealed_manifest": sealed.hex(),
        "reply_private_scalar": REPLY_SCALAR,
        "reply_public_key": b64url_encode(public_key_bytes(reply)),
        "reply_ephemeral_private_scalar": REPLY_EPHEMERAL_SCALAR,
        "reply_info": reply_info(JOB_ID).hex(),
        "reply_plaintext": REPLY_PLAINTEXT,
        "sealed_reply": sealed_reply.hex(),
        "file_content_rule": f"plaintext given inline (hex) when 'content' is 'inline'; otherwise {PATTERN}, for 'size' bytes",
        "files": files,
        "failures": [
            {
                "case": "manifest opened with job id 'job-OTHER'",
                "expect": "WrongKeyError",
            },
            {"case": "reply opened with job id 'job-OTHER'", "expect": "WrongKeyError"},
            {"case": "file 4 without its last record", "expect": "TruncatedError"},
            {"case": "file 4 with one extra byte appended", "expect": "TamperedError"},
            {"case": "file 1 opened with key of file 2", "expect": "TamperedError"},
            {
                "case": "file 3 followed by file 1's ciphertext",
                "expect": "TrailingDataError",
            },
        ],
    }


def main() -> int:
    """Write the vector file."""
    VECTOR_PATH.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(VECTOR_PATH)
    return 0


if __name__ == "__main__":
    sys.exit(main())
