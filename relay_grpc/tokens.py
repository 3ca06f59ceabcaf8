"""Secrets of the relay: bearer tokens, enrollment codes, job codes and ids.

Tokens are 256-bit random (``secrets.token_urlsafe(32)``); the relay stores only
their SHA-256 (hex) and compares in constant time. Job codes are for people and
never grant access.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid

# Crockford base32 without I, L, O, U: nothing a person can misread.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Job codes are read aloud at a counter: also drop 0/1 which look like O/I.
JOB_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
JOB_CODE_LENGTH = 6
ENROLLMENT_CODE_GROUPS = 4
MAX_TOKEN_LENGTH = 128
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+")


def new_token() -> str:
    """A fresh 256-bit bearer token, base64url without padding (43 characters)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 of ``token`` as 64 hex characters (what the database stores)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str, stored_hash: str | None) -> bool:
    """True when ``token`` hashes to ``stored_hash``; constant-time comparison."""
    if not stored_hash:
        return False
    return hmac.compare_digest(hash_token(token), stored_hash)


def plausible_token(token: str) -> bool:
    """Cheap shape check before any lookup: base64url characters, sane length."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return False
    return _TOKEN_SHAPE.fullmatch(token) is not None


def new_job_code() -> str:
    """A 6-character code shown to people; not a secret and never an access key."""
    return "".join(secrets.choice(JOB_CODE_ALPHABET) for _ in range(JOB_CODE_LENGTH))


def new_enrollment_code() -> str:
    """A one-time enrollment code, 80 random bits as XXXX-XXXX-XXXX-XXXX."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(4 * ENROLLMENT_CODE_GROUPS))
    return "-".join(chars[i : i + 4] for i in range(0, len(chars), 4))


def normalize_enrollment_code(code: str) -> str:
    """Canonical form of a typed code: upper case, Crockford substitutions, dashes."""
    cleaned = code.strip().upper().replace(" ", "").replace("-", "")
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    return "-".join(cleaned[i : i + 4] for i in range(0, len(cleaned), 4))


def new_id() -> str:
    """An opaque unique id (32 hex characters), safe in URLs and blob keys."""
    return uuid.uuid4().hex
