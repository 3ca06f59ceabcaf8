"""The shop key as words: the pinned EFF list, the shared vectors, other keys other words."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import envelope
from envelope import words

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "tests" / "data" / "key_words_vectors.json").read_text())["vectors"]
STATIC_COPY = ROOT / "web_bridge" / "static" / "vendor" / "eff-wordlist" / "eff_large_wordlist.txt"


def _key(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_vendored_lists_are_the_pinned_eff_large_list() -> None:
    for path in (words.WORDLIST_PATH, STATIC_COPY):
        assert hashlib.sha256(path.read_bytes()).hexdigest() == words.WORDLIST_SHA256, path
    listed = words.wordlist()
    assert len(listed) == 7776 and listed[0] == "abacus" and listed[-1] == "zoom"
    assert len(set(listed)) == 7776


def test_shared_vectors() -> None:
    assert len(VECTORS) >= 3
    for vector in VECTORS:
        key = _key(vector["public_key"])
        assert envelope.fingerprint_display(key) == vector["fingerprint"]
        assert words.fingerprint_words(key) == vector["words"]


def test_derivation_is_the_documented_one() -> None:
    key = _key(VECTORS[0]["public_key"])
    n = int.from_bytes(hashlib.sha256(key).digest()[:16], "big")
    expected = [words.wordlist()[(n // 7776**i) % 7776] for i in range(6)]
    assert words.fingerprint_words(key) == expected


def test_other_keys_give_other_words() -> None:
    seen = {tuple(words.fingerprint_words(envelope.generate_private_key())) for _ in range(50)}
    assert len(seen) == 50
    assert all(len(w) == 6 for w in seen)
