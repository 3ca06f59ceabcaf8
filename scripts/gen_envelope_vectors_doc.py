"""Write docs/envelope-vectors.md, the envelope test vectors for integrators.

Reads tests/data/envelope_vectors.json (the reference the Python and browser tests
reproduce), re-seals every file with ``envelope`` and refuses to write unless each
ciphertext hashes to the recorded value, then prints keys, job id, manifest bytes,
sealed manifest, every record (nonce, size, SHA-256, tag; whole ciphertext for small
files) and the failure cases.

Usage: python scripts/gen_envelope_vectors_doc.py [OUT]   (default: docs/envelope-vectors.md)
"""

from __future__ import annotations

import hashlib
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from envelope.stream import (
    RECORD_SIZE,
    SEALED_RECORD_SIZE,
    record_nonce,
    seal_bytes,
)

VECTORS = ROOT / "tests" / "data" / "envelope_vectors.json"
MULTI = ROOT / "tests" / "data" / "envelope_vectors_multi.json"
FAILURES = {
    "WrongKeyError": "the sealed manifest MUST NOT open (HPKE open fails: other `info`)",
    "TruncatedError": "the last record present authenticates only as non-final",
    "TamperedError": "a record fails to authenticate",
    "TrailingDataError": "a record authenticates as final but bytes follow it",
}


def _hex_block(data: bytes, width: int = 64) -> list[str]:
    return ["```", *textwrap.wrap(data.hex(), width), "```"]


def _content(item: dict[str, Any]) -> bytes:
    if item["content"] == "inline":
        return bytes.fromhex(item["plaintext"])
    return bytes(i % 251 for i in range(item["size"]))


def _records(item: dict[str, Any], sealed: bytes) -> list[str]:
    rows = [
        "| record | final | nonce | sealed bytes | SHA-256 of the sealed record | tag (last 16 bytes) |",
        "|---|---|---|---|---|---|",
    ]
    starts = list(range(0, len(sealed), SEALED_RECORD_SIZE)) or [0]
    for n, start in enumerate(starts):
        record = sealed[start : start + SEALED_RECORD_SIZE]
        final = n == len(starts) - 1
        rows.append(
            f"| {n} | {'yes' if final else 'no'} | `{record_nonce(n, final).hex()}` | {len(record):,} | "
            f"`{hashlib.sha256(record).hexdigest()}` | `{record[-16:].hex()}` |"
        )
    return rows


def _multi(multi: dict[str, Any]) -> list[str]:
    """The multi-recipient section (envelope.md §5.2), from envelope_vectors_multi.json."""
    out = [
        "## Multi-recipient manifest (envelope.md §5.2)",
        "",
        "The manifest above sealed to two kiosk keys (counter 1 is the shop key above).",
        "",
        "| item | value |",
        "|---|---|",
        f"| manifest key M (fixed here, random in use) | `{multi['manifest_key']}` |",
        f'| HPKE info = "cloudtab/v3 recipient:" ‖ job id | `{multi["recipient_info"]}` |',
    ]
    for r in multi["recipients"]:
        out += [
            f"| {r['label']}: private scalar | `{r['private_scalar']}` |",
            f"| {r['label']}: public key, text form | `{r['public_key']}` |",
            f"| {r['label']}: fingerprint | `{r['fingerprint']}` |",
            f"| {r['label']}: HPKE ephemeral private scalar | `{r['ephemeral_private_scalar']}` |",
            f"| {r['label']}: wrapped M (113 bytes) | `{r['wrapped_key']}` |",
        ]
    out += [
        f"| outsider private scalar (not a recipient) | `{multi['outsider_private_scalar']}` |",
        "",
        f'Header ("CTMR" ‖ 01 ‖ n ‖ entries; {len(bytes.fromhex(multi["header"]))} bytes):',
        "",
        *_hex_block(bytes.fromhex(multi["header"])),
        "",
        f"Body = AES-256-GCM(M, zero nonce, manifest JSON, aad = header) ({len(bytes.fromhex(multi['body']))} bytes):",
        "",
        *_hex_block(bytes.fromhex(multi["body"])),
        "",
        "A receiver MUST fail (`WrongKeyError`) on each of these:",
        "",
        *[f"- {f['case']}" for f in multi["failures"]],
        "",
    ]
    return out


def render(vectors: dict[str, Any]) -> str:
    """The Markdown page.

    Raises:
        ValueError: a re-sealed file does not match the vector file.
    """
    manifest = vectors["manifest_json"].encode("utf-8")
    out = [
        "# Envelope test vectors (manifest format 2)",
        "",
        "Generated from `tests/data/envelope_vectors.json` by `scripts/gen_envelope_vectors_doc.py`;",
        "do not edit. Every value is checked by the Python and browser test suites, and every",
        "file below was sealed again while writing this page. Bytes are lowercase hex unless",
        "noted; see [envelope.md](envelope.md) for the rules.",
        "",
        "## Keys and job",
        "",
        "| item | value |",
        "|---|---|",
        f"| shop private scalar (P-256) | `{vectors['shop_private_scalar']}` |",
        f"| shop public key (65-byte point) | `{vectors['shop_public_key_hex']}` |",
        f"| shop public key, text form (base64url) | `{vectors['shop_public_key']}` |",
        f"| fingerprint = SHA-256(point) | `{vectors['fingerprint']}` |",
        f"| fingerprint display | `{vectors['fingerprint_display']}` |",
        f"| content key K | `{vectors['content_key']}` |",
        f"| job id | `{vectors['job_id']}` |",
        f'| HPKE info = "cloudtab/v1 job:" ‖ job id | `{vectors["hpke_info"]}` |',
        f"| HPKE ephemeral private scalar (fixed here, random in use) | `{vectors['ephemeral_private_scalar']}` |",
        "",
        "## Manifest",
        "",
        f"The manifest JSON as text ({len(manifest)} bytes of UTF-8; note the raw non-ASCII",
        "letters and the escaped quotes):",
        "",
        "```json",
        vectors["manifest_json"],
        "```",
        "",
        "The same bytes in hex:",
        "",
        *_hex_block(manifest),
        "",
        f"Sealed manifest = enc (65 bytes) ‖ HPKE ciphertext ({len(bytes.fromhex(vectors['sealed_manifest']))} bytes):",
        "",
        *_hex_block(bytes.fromhex(vectors["sealed_manifest"])),
        "",
        "## Reply (envelope.md §5.1)",
        "",
        "Sealed by the kiosk to the manifest's `reply` key; opened by the page.",
        "",
        "| item | value |",
        "|---|---|",
        f"| reply private scalar (P-256, the page's) | `{vectors['reply_private_scalar']}` |",
        f"| reply public key, text form (the manifest's `reply`) | `{vectors['reply_public_key']}` |",
        f'| HPKE info = "cloudtab/v2 reply:" ‖ job id | `{vectors["reply_info"]}` |',
        f"| HPKE ephemeral private scalar (fixed here, random in use) | `{vectors['reply_ephemeral_private_scalar']}` |",
        f"| plaintext (UTF-8) | `{vectors['reply_plaintext']}` |",
        "",
        f"Sealed reply = enc (65 bytes) ‖ HPKE ciphertext ({len(bytes.fromhex(vectors['sealed_reply']))} bytes):",
        "",
        *_hex_block(bytes.fromhex(vectors["sealed_reply"])),
        "",
        "Format 1 manifests (read only, envelope.md §4.1) have their own frozen vectors in",
        "`tests/data/envelope_vectors_v1.json`.",
        "",
        "## Files",
        "",
        f"Plaintext: {vectors['file_content_rule']}. Records hold {RECORD_SIZE:,} plaintext bytes",
        f"({SEALED_RECORD_SIZE:,} sealed).",
        "",
    ]
    for item in vectors["files"]:
        content = _content(item)
        if hashlib.sha256(content).hexdigest() != item["sha256"]:
            raise ValueError(f"file {item['index']}: plaintext does not match its sha256")
        sealed = seal_bytes(bytes.fromhex(item["file_key"]), content)
        if hashlib.sha256(sealed).hexdigest() != item["ciphertext_sha256"] or len(sealed) != item["ciphertext_size"]:
            raise ValueError(f"file {item['index']}: re-sealed ciphertext differs from the vectors")
        out += [
            f"### File {item['index']}: {item['size']:,} bytes",
            "",
            f"- key_{item['index']} = `{item['file_key']}`",
            f"- plaintext SHA-256 = `{item['sha256']}`",
            f"- ciphertext: {item['ciphertext_size']:,} bytes, SHA-256 `{item['ciphertext_sha256']}`",
            "",
            *_records(item, sealed),
            "",
        ]
        if item["content"] == "inline":
            out += ["Plaintext:", "", *_hex_block(content), "", "Ciphertext:", "", *_hex_block(sealed), ""]
    out += _multi(json.loads(MULTI.read_text(encoding="utf-8")))
    out += [
        "## Failure cases",
        "",
        "A receiver MUST fail on each of these (and use none of the plaintext):",
        "",
        "| case | error in `envelope` | what happens |",
        "|---|---|---|",
    ]
    for failure in vectors["failures"]:
        out.append(f"| {failure['case']} | `{failure['expect']}` | {FAILURES.get(failure['expect'], '')} |")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else ROOT / "docs" / "envelope-vectors.md"
    target.write_text(render(json.loads(VECTORS.read_text(encoding="utf-8"))), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
