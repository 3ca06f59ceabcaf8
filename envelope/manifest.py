"""The job manifest: dataclasses, JSON encoding and validation, HPKE seal/open.

The manifest is UTF-8 JSON carrying the content key K, the customer's name and
note, each file's name, media type, size and SHA-256, and the print options. It
is sealed with HPKE (RFC 9180) single-shot base mode, DHKEM(P-256,
HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM, info = "cloudtab/v1 job:" + job id,
empty aad; the sealed bytes are enc (65 bytes) followed by the ciphertext.
Unknown keys are ignored on open; missing or out-of-range ones are errors.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke

from envelope.b64 import b64url_decode, b64url_encode
from envelope.errors import ManifestError, WrongKeyError
from envelope.keys import PrivateKey, PublicKey
from envelope.stream import KEY_SIZE

VERSION = 1
JOB_INFO_PREFIX = b"cloudtab/v1 job:"
ENC_SIZE = 65
MAX_MANIFEST_SIZE = 1 << 20
MAX_FILES = 100
MAX_FILE_SIZE = 1 << 40
MAX_COPIES = 999
MAX_NAME_CHARS = 200
MAX_NOTE_CHARS = 2000
MAX_FILE_NAME_CHARS = 255
MAX_JOB_ID_CHARS = 128
COLORS = ("bw", "color")
DUPLEX = ("none", "long", "short")
PAPERS = ("A4", "Letter", "A3", "Legal")
SUITE = hpke.Suite(hpke.KEM.P256, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)

_PAGES = re.compile(
    r"[1-9][0-9]{0,4}(-[1-9][0-9]{0,4})?(,[1-9][0-9]{0,4}(-[1-9][0-9]{0,4})?)*"
)
_MEDIA_TYPE = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}"
)
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Customer:
    """Who sent the job, as they typed it."""

    name: str = ""
    note: str = ""


@dataclass(frozen=True)
class FileEntry:
    """One file of the job, in upload order (its index selects key_i)."""

    name: str
    type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class PrintOptions:
    """Requested print options; ``pages`` is "" (all) or a list like "1-3,5"."""

    copies: int = 1
    color: str = "bw"
    duplex: str = "none"
    pages: str = ""
    paper: str = "A4"


@dataclass(frozen=True)
class Manifest:
    """A whole manifest. ``content_key`` is K; it never appears in repr."""

    content_key: bytes = field(repr=False)
    files: tuple[FileEntry, ...]
    customer: Customer = Customer()
    options: PrintOptions = PrintOptions()

    def to_dict(self, *, include_key: bool = True) -> dict[str, Any]:
        """The JSON object; without ``k`` when include_key is False."""
        data: dict[str, Any] = {"v": VERSION}
        if include_key:
            data["k"] = b64url_encode(self.content_key)
        data["customer"] = {"name": self.customer.name, "note": self.customer.note}
        data["files"] = [
            {"name": f.name, "type": f.type, "size": f.size, "sha256": f.sha256}
            for f in self.files
        ]
        o = self.options
        data["options"] = {
            "copies": o.copies,
            "color": o.color,
            "duplex": o.duplex,
            "pages": o.pages,
            "paper": o.paper,
        }
        return data

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON, keys in spec order (v, k, customer, files, options).

        Raises:
            ManifestError: the manifest breaks the schema.
        """
        data = self.to_dict()
        validate(data)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8"
        )


def new_content_key() -> bytes:
    """A fresh random 32-byte content key K."""
    return secrets.token_bytes(KEY_SIZE)


def job_info(job_id: str) -> bytes:
    """HPKE info for a job: ``cloudtab/v1 job:`` + UTF-8 job id.

    Raises:
        ManifestError: empty, too long, or containing control characters.
    """
    if not isinstance(job_id, str) or not 0 < len(job_id) <= MAX_JOB_ID_CHARS:
        raise ManifestError("job id must be 1..128 characters")
    if _CONTROL.search(job_id):
        raise ManifestError("job id contains control characters")
    return JOB_INFO_PREFIX + job_id.encode("utf-8")


def _need(obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in obj:
        raise ManifestError(f"{where}: missing '{key}'")
    value = obj[key]
    if type(value) is not kind:  # bool is not int here, on purpose
        raise ManifestError(f"{where}: '{key}' must be {kind.__name__}")
    return value


def _text(obj: dict[str, Any], key: str, where: str, limit: int) -> str:
    value: str = _need(obj, key, str, where)
    if len(value) > limit:
        raise ManifestError(f"{where}: '{key}' longer than {limit} characters")
    return value


def _pages_ok(pages: str) -> bool:
    if pages == "":
        return True
    if not _PAGES.fullmatch(pages):
        return False
    for part in pages.split(","):
        low, _, high = part.partition("-")
        if high and int(high) < int(low):
            return False
    return True


def validate(data: Any) -> Manifest:
    """Check a decoded manifest object and build the Manifest.

    Raises:
        ManifestError: wrong version, missing key, wrong type or out of range.
    """
    if not isinstance(data, dict):
        raise ManifestError("manifest must be a JSON object")
    if _need(data, "v", int, "manifest") != VERSION:
        raise ManifestError("unsupported manifest version")
    try:
        key = b64url_decode(_need(data, "k", str, "manifest"))
    except ValueError:
        raise ManifestError("manifest: 'k' is not base64url") from None
    if len(key) != KEY_SIZE:
        raise ManifestError("manifest: 'k' must be 32 bytes")
    cust = _need(data, "customer", dict, "manifest")
    customer = Customer(
        name=_text(cust, "name", "customer", MAX_NAME_CHARS),
        note=_text(cust, "note", "customer", MAX_NOTE_CHARS),
    )
    raw_files = _need(data, "files", list, "manifest")
    if not 1 <= len(raw_files) <= MAX_FILES:
        raise ManifestError(f"manifest: 1..{MAX_FILES} files required")
    files = []
    for i, item in enumerate(raw_files):
        where = f"files[{i}]"
        if not isinstance(item, dict):
            raise ManifestError(f"{where}: must be an object")
        name = _text(item, "name", where, MAX_FILE_NAME_CHARS)
        media = _text(item, "type", where, 127)
        if not _MEDIA_TYPE.fullmatch(media):
            raise ManifestError(f"{where}: 'type' is not a media type")
        size = _need(item, "size", int, where)
        if not 0 <= size <= MAX_FILE_SIZE:
            raise ManifestError(f"{where}: 'size' out of range")
        digest = _need(item, "sha256", str, where)
        if not _SHA256_HEX.fullmatch(digest):
            raise ManifestError(f"{where}: 'sha256' must be 64 lowercase hex digits")
        files.append(FileEntry(name=name, type=media, size=size, sha256=digest))
    opts = _need(data, "options", dict, "manifest")
    copies = _need(opts, "copies", int, "options")
    if not 1 <= copies <= MAX_COPIES:
        raise ManifestError(f"options: 'copies' must be 1..{MAX_COPIES}")
    choices = {"color": COLORS, "duplex": DUPLEX, "paper": PAPERS}
    picked = {}
    for name, allowed in choices.items():
        picked[name] = _need(opts, name, str, "options")
        if picked[name] not in allowed:
            raise ManifestError(
                f"options: '{name}' must be one of {', '.join(allowed)}"
            )
    pages = _need(opts, "pages", str, "options")
    if len(pages) > 200 or not _pages_ok(pages):
        raise ManifestError("options: 'pages' must be '' or a range list like '1-3,5'")
    options = PrintOptions(copies=copies, pages=pages, **picked)
    return Manifest(
        content_key=key, files=tuple(files), customer=customer, options=options
    )


def parse(data: bytes) -> Manifest:
    """Decode manifest JSON bytes.

    Raises:
        ManifestError: too large, not UTF-8 JSON, or invalid (see :func:`validate`).
    """
    if len(data) > MAX_MANIFEST_SIZE:
        raise ManifestError("manifest too large")
    try:
        decoded = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ManifestError("manifest is not UTF-8 JSON") from None
    return validate(decoded)


def seal_manifest(manifest: Manifest, public_key: PublicKey, job_id: str) -> bytes:
    """HPKE-seal the manifest to the shop key for this job: enc || ciphertext.

    Raises:
        ManifestError: invalid manifest or job id.
    """
    return SUITE.encrypt(manifest.to_json(), public_key, info=job_info(job_id))


def open_manifest_bytes(sealed: bytes, private_key: PrivateKey, job_id: str) -> bytes:
    """HPKE-open a sealed manifest and return its JSON bytes (no validation).

    Raises:
        WrongKeyError: authentication failed: wrong key, sealed for another job
            id, or altered.
        ManifestError: invalid job id.
    """
    info = job_info(job_id)
    if len(sealed) < ENC_SIZE + 16 or len(sealed) > MAX_MANIFEST_SIZE + ENC_SIZE + 16:
        raise WrongKeyError("sealed manifest has an impossible length")
    try:
        return SUITE.decrypt(sealed, private_key, info=info)
    except (InvalidTag, ValueError):  # ValueError: enc is not a valid point
        raise WrongKeyError(
            "manifest does not open with this key for this job (wrong key, other job, or altered)"
        ) from None


def open_manifest(sealed: bytes, private_key: PrivateKey, job_id: str) -> Manifest:
    """HPKE-open and validate a sealed manifest.

    Raises:
        WrongKeyError: see :func:`open_manifest_bytes`.
        ManifestError: the plaintext is not a valid manifest.
    """
    return parse(open_manifest_bytes(sealed, private_key, job_id))
