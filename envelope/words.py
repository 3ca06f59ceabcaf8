"""The shop key's fingerprint as words people compare at the counter.

Six words from the EFF large word list (7776 words, CC BY 3.0 US, vendored unmodified
as ``envelope/eff_large_wordlist.txt`` with its SHA-256 checked). Derivation, the same
in ``web_bridge/static/js/keywords.js``: take the first 16 bytes of the key fingerprint
(SHA-256 of the 65-byte public key, or the key set fingerprint of
``envelope.keyset``) as a big-endian integer ``n``; six times, word =
``list[n mod 7776]``, ``n = n div 7776``. Six words carry 77 bits of the fingerprint.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from envelope.errors import EnvelopeError
from envelope.keys import PrivateKey, PublicKey, fingerprint

WORDLIST_PATH = Path(__file__).with_name("eff_large_wordlist.txt")
WORDLIST_SHA256 = "addd35536511597a02fa0a9ff1e5284677b8883b83e986e43f15a3db996b903e"
WORD_COUNT = 6
LIST_SIZE = 7776


@functools.cache
def wordlist() -> tuple[str, ...]:
    """The 7776 words, in list order.

    Raises:
        EnvelopeError: if the vendored file is not the pinned EFF list.
    """
    data = WORDLIST_PATH.read_bytes()
    if hashlib.sha256(data).hexdigest() != WORDLIST_SHA256:
        raise EnvelopeError("the vendored word list is not the EFF large word list")
    words = tuple(line.split("\t")[1] for line in data.decode("ascii").splitlines())
    if len(words) != LIST_SIZE:
        raise EnvelopeError("the word list does not have 7776 words")
    return words


def fingerprint_words(key: PublicKey | PrivateKey | bytes) -> list[str]:
    """The six words of ``key``'s fingerprint."""
    return digest_words(fingerprint(key))


def digest_words(digest: bytes) -> list[str]:
    """The six words of a 32-byte fingerprint (a key's, or a key set's: envelope.keyset)."""
    words = wordlist()
    n = int.from_bytes(digest[:16], "big")
    out = []
    for _ in range(WORD_COUNT):
        n, index = divmod(n, LIST_SIZE)
        out.append(words[index])
    return out
