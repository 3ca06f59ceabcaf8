"""Regenerate tests/data/envelope_vectors_multi.json (run: python -m tests.envelope.make_multi_vectors).

Multi-recipient sealed manifest (docs/envelope.md §5.2): the manifest of
envelope_vectors.json sealed to two kiosk keys (the shop key of those vectors
and a second counter's key) with a fixed manifest key M and fixed ephemeral
keys. Python and the browser reproduce every byte; regenerate only on purpose.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from envelope.b64 import b64url_encode
from envelope.keys import fingerprint, public_key_bytes
from envelope.manifest import parse
from envelope.recipients import recipient_info, seal_manifest_multi
from tests.envelope.hpke_ref import private_key_from_hex, seal_base

DATA = Path(__file__).resolve().parents[1] / "data"
VECTOR_PATH = DATA / "envelope_vectors_multi.json"
SCALARS = [
    "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",  # the shop key of envelope_vectors.json
    "2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c",
]
OUTSIDER_SCALAR = "3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d"
LABELS = ["Counter 1", "Counter 2"]
EPHEMERAL_SCALARS = [
    "1111111111111111111111111111111111111111111111111111111111111111",
    "2222222222222222222222222222222222222222222222222222222222222222",
]
MANIFEST_KEY = bytes(range(32, 64))


def build() -> dict[str, Any]:
    """The whole vector document."""
    base = json.loads((DATA / "envelope_vectors.json").read_text(encoding="utf-8"))
    manifest = parse(base["manifest_json"].encode("utf-8"))
    keys = [private_key_from_hex(s) for s in SCALARS]
    ephemerals = iter([private_key_from_hex(s) for s in EPHEMERAL_SCALARS])

    def wrap(key: ec.EllipticCurvePublicKey, info: bytes, m_key: bytes) -> bytes:
        return seal_base(key, next(ephemerals), info, m_key)

    sealed = seal_manifest_multi(
        manifest, [k.public_key() for k in keys], base["job_id"], manifest_key=MANIFEST_KEY, wrap=wrap
    )
    header_size = 6 + len(keys) * 145
    return {
        "description": "CloudTab multi-recipient sealed manifest (docs/envelope.md §5.2): the manifest of envelope_vectors.json sealed to two kiosk keys. Regenerate with python -m tests.envelope.make_multi_vectors; Python and browser tests reproduce every byte.",
        "job_id": base["job_id"],
        "recipient_info": recipient_info(base["job_id"]).hex(),
        "manifest_key": MANIFEST_KEY.hex(),
        "manifest_json": base["manifest_json"],
        "recipients": [
            {
                "label": label,
                "private_scalar": scalar,
                "public_key": b64url_encode(public_key_bytes(key)),
                "fingerprint": fingerprint(public_key_bytes(key)).hex(),
                "ephemeral_private_scalar": eph,
                "wrapped_key": sealed[6 + i * 145 + 32 : 6 + (i + 1) * 145].hex(),
            }
            for i, (label, scalar, key, eph) in enumerate(zip(LABELS, SCALARS, keys, EPHEMERAL_SCALARS, strict=True))
        ],
        "outsider_private_scalar": OUTSIDER_SCALAR,
        "header": sealed[:header_size].hex(),
        "body": sealed[header_size:].hex(),
        "sealed_manifest": sealed.hex(),
        "failures": [
            {"case": "opened with job id 'job-OTHER'", "expect": "WrongKeyError"},
            {"case": "opened with the outsider key (not a recipient)", "expect": "WrongKeyError"},
            {"case": "recipient 2 removed (count 1, header shortened)", "expect": "WrongKeyError"},
            {"case": "last byte of the body flipped", "expect": "WrongKeyError"},
        ],
    }


def main() -> int:
    """Write the vector file."""
    VECTOR_PATH.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(VECTOR_PATH)
    return 0


if __name__ == "__main__":
    sys.exit(main())
