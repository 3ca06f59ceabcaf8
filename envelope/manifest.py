"""The job manifest: dataclasses, JSON encoding and validation, HPKE seal/open.

The manifest is UTF-8 JSON carrying the content key K, the customer's name and
note, each file's name, media type, size, SHA-256, copies and page ranges, the
job's print options and, optionally, a "reply" public key. It is sealed with
HPKE (RFC 9180) single-shot base mode, DHKEM(P-256, HKDF-SHA256) / HKDF-SHA256
/ AES-256-GCM, info = "cloudtab/v1 job:" + job id, empty aad; the sealed
bytes are enc (65 bytes) followed by the ciphertext.

Senders write format 2 (docs/envelope.md §4). Receivers also open format 1
(one set of options for the whole job, page ranges counted across files),
read into the same dataclasses. Unknown keys are ignored on open; missing or
out-of-range ones are errors.

The option words are the kiosk's one vocabulary (kiosk/core/options.py):
color monochrome|color, sides one-sided|two-sided-long-edge|two-sided-short-edge,
media A4|Letter|A3|Legal, pages_per_sheet 1|2|4, orientation portrait|landscape,
and for photos only (optional, written only when not the default):
photo_fit fit|fill, photo_size page|10x15|4x6, photos_per_sheet 1|2|4.
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
from envelope.errors import InvalidKeyError, ManifestError, WrongKeyError
from envelope.keys import PrivateKey, PublicKey, public_key_from_bytes
from envelope.stream import KEY_SIZE

VERSION = 2
VERSIONS = (1, 2)
JOB_INFO_PREFIX = b"cloudtab/v1 job:"
REPLY_INFO_PREFIX = b"cloudtab/v2 reply:"
ENC_SIZE = 65
MAX_MANIFEST_SIZE = 1 << 20
MAX_REPLY_SIZE = 1 << 16
MAX_FILES = 100
MAX_FILE_SIZE = 1 << 40
MAX_COPIES = 999
MAX_NAME_CHARS = 200
MAX_NOTE_CHARS = 2000
MAX_FILE_NAME_CHARS = 255
MAX_JOB_ID_CHARS = 128
MAX_RANGE_CHARS = 200
COLORS = ("monochrome", "color")
SIDES = ("one-sided", "two-sided-long-edge", "two-sided-short-edge")
MEDIA = ("A4", "Letter", "A3", "Legal")
PAGES_PER_SHEET = (1, 2, 4)
ORIENTATIONS = ("portrait", "landscape")
PHOTO_FITS = ("fit", "fill")
PHOTO_SIZES = ("page", "10x15", "4x6")
PHOTOS_PER_SHEET = (1, 2, 4)
SUITE = hpke.Suite(hpke.KEM.P256, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)

# Format 1 words, read only (docs/envelope.md §4.1).
V1_COLORS = {"bw": "monochrome", "color": "color"}
V1_DUPLEX = {"none": "one-sided", "long": "two-sided-long-edge", "short": "two-sided-short-edge"}

_PAGES = re.compile(r"[1-9][0-9]{0,4}(-[1-9][0-9]{0,4})?(,[1-9][0-9]{0,4}(-[1-9][0-9]{0,4})?)*")
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Customer:
    """Who sent the job, as they typed it."""

    name: str = ""
    note: str = ""


@dataclass(frozen=True)
class FileEntry:
    """One file of the job, in upload order (its index selects key_i), with its own pages and copies."""

    name: str
    type: str
    size: int
    sha256: str
    copies: int = 1
    page_ranges: str = ""  # "" (all) or e.g. "1-3,5" in the file's own page numbers


@dataclass(frozen=True)
class JobOptions:
    """Print options for the whole job (the same words as kiosk/core/options.py)."""

    color: str = "monochrome"
    sides: str = "one-sided"
    media: str = "A4"
    pages_per_sheet: int = 1
    orientation: str = "portrait"
    photo_fit: str = "fit"  # photos only: "fit" inside margins or "fill" the cell (cropped)
    photo_size: str = "page"  # photos only: "page" or a print size "10x15" (cm) / "4x6" (in)
    photos_per_sheet: int = 1  # photos only: cells per sheet (one photo repeats in each)

    def photo_words(self) -> dict[str, Any]:
        """The photo options that differ from the default, in spec order (omitted when default)."""
        words: dict[str, Any] = {}
        if self.photo_fit != "fit":
            words["photo_fit"] = self.photo_fit
        if self.photo_size != "page":
            words["photo_size"] = self.photo_size
        if self.photos_per_sheet != 1:
            words["photos_per_sheet"] = self.photos_per_sheet
        return words


@dataclass(frozen=True)
class Manifest:
    """A whole manifest. ``content_key`` is K; it never appears in repr.

    ``reply_key`` is the customer page's P-256 public key (65 bytes) for
    details sealed back to it (:func:`seal_reply`), or None. ``version`` is
    1 only for a manifest read from format 1, whose ``job_page_ranges`` count
    pages across all files (format 2 puts page ranges on each file).
    """

    content_key: bytes = field(repr=False)
    files: tuple[FileEntry, ...]
    customer: Customer = Customer()
    options: JobOptions = JobOptions()
    reply_key: bytes | None = None
    version: int = VERSION
    job_page_ranges: str = ""

    def to_dict(self, *, include_key: bool = True) -> dict[str, Any]:
        """The format-2 JSON object; without ``k`` when include_key is False."""
        data: dict[str, Any] = {"v": VERSION}
        if include_key:
            data["k"] = b64url_encode(self.content_key)
        data["customer"] = {"name": self.customer.name, "note": self.customer.note}
        data["files"] = [
            {
                "name": f.name,
                "type": f.type,
                "size": f.size,
                "sha256": f.sha256,
                "copies": f.copies,
                "page_ranges": f.page_ranges,
            }
            for f in self.files
        ]
        o = self.options
        data["options"] = {
            "color": o.color,
            "sides": o.sides,
            "media": o.media,
            "pages_per_sheet": o.pages_per_sheet,
            "orientation": o.orientation,
            **o.photo_words(),
        }
        if self.reply_key is not None:
            data["reply"] = b64url_encode(self.reply_key)
        return data

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON (format 2), keys in spec order (v, k, customer, files, options, reply).

        Raises:
            ManifestError: the manifest breaks the schema, or it was read from format 1.
        """
        if self.version != VERSION or self.job_page_ranges:
            raise ManifestError("only format 2 manifests are written")
        data = self.to_dict()
        validate(data)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


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
    if len(pages) > MAX_RANGE_CHARS or not _PAGES.fullmatch(pages):
        return False
    for part in pages.split(","):
        low, _, high = part.partition("-")
        if high and int(high) < int(low):
            return False
    return True


def _choice(obj: dict[str, Any], key: str, where: str, allowed: tuple[Any, ...]) -> Any:
    value = _need(obj, key, type(allowed[0]), where)
    if value not in allowed:
        raise ManifestError(f"{where}: '{key}' must be one of {', '.join(map(str, allowed))}")
    return value


def _copies(obj: dict[str, Any], where: str) -> int:
    copies: int = _need(obj, "copies", int, where)
    if not 1 <= copies <= MAX_COPIES:
        raise ManifestError(f"{where}: 'copies' must be 1..{MAX_COPIES}")
    return copies


def _ranges(obj: dict[str, Any], key: str, where: str) -> str:
    pages: str = _need(obj, key, str, where)
    if not _pages_ok(pages):
        raise ManifestError(f"{where}: '{key}' must be '' or a range list like '1-3,5'")
    return pages


def _file(item: Any, where: str, version: int) -> FileEntry:
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
    if version == 1:
        return FileEntry(name=name, type=media, size=size, sha256=digest)
    return FileEntry(
        name=name,
        type=media,
        size=size,
        sha256=digest,
        copies=_copies(item, where),
        page_ranges=_ranges(item, "page_ranges", where),
    )


def _reply_key(data: dict[str, Any]) -> bytes | None:
    if "reply" not in data:
        return None
    text = _need(data, "reply", str, "manifest")
    try:
        raw = b64url_decode(text)
        public_key_from_bytes(raw)
    except (ValueError, InvalidKeyError):
        raise ManifestError("manifest: 'reply' is not a P-256 public key") from None
    return raw


def validate(data: Any) -> Manifest:
    """Check a decoded manifest object (format 2, or format 1 read into the same types).

    Raises:
        ManifestError: unknown version, missing key, wrong type or out of range.
    """
    if not isinstance(data, dict):
        raise ManifestError("manifest must be a JSON object")
    version = _need(data, "v", int, "manifest")
    if version not in VERSIONS:
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
    files = tuple(_file(item, f"files[{i}]", version) for i, item in enumerate(raw_files))
    opts = _need(data, "options", dict, "manifest")
    if version == 1:
        return _validate_v1(key, customer, files, opts)
    options = JobOptions(
        color=_choice(opts, "color", "options", COLORS),
        sides=_choice(opts, "sides", "options", SIDES),
        media=_choice(opts, "media", "options", MEDIA),
        pages_per_sheet=_choice(opts, "pages_per_sheet", "options", PAGES_PER_SHEET),
        orientation=_choice(opts, "orientation", "options", ORIENTATIONS),
        photo_fit=_choice(opts, "photo_fit", "options", PHOTO_FITS) if "photo_fit" in opts else "fit",
        photo_size=_choice(opts, "photo_size", "options", PHOTO_SIZES) if "photo_size" in opts else "page",
        photos_per_sheet=(
            _choice(opts, "photos_per_sheet", "options", PHOTOS_PER_SHEET) if "photos_per_sheet" in opts else 1
        ),
    )
    return Manifest(content_key=key, files=files, customer=customer, options=options, reply_key=_reply_key(data))


def _validate_v1(key: bytes, customer: Customer, files: tuple[FileEntry, ...], opts: dict[str, Any]) -> Manifest:
    """Format 1 options ({copies, color bw|color, duplex none|long|short, pages, paper}) in format-2 types.

    The job's copies go on every file; its page ranges, counted across all
    files, stay on ``Manifest.job_page_ranges``.
    """
    copies = _copies(opts, "options")
    color = _choice(opts, "color", "options", tuple(V1_COLORS))
    duplex = _choice(opts, "duplex", "options", tuple(V1_DUPLEX))
    paper = _choice(opts, "paper", "options", MEDIA)
    pages = _ranges(opts, "pages", "options")
    return Manifest(
        content_key=key,
        files=tuple(FileEntry(f.name, f.type, f.size, f.sha256, copies=copies) for f in files),
        customer=customer,
        options=JobOptions(color=V1_COLORS[color], sides=V1_DUPLEX[duplex], media=paper),
        version=1,
        job_page_ranges=pages,
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
    """HPKE-open and validate a sealed manifest: single-recipient (§5) or multi-recipient (§5.2).

    Raises:
        WrongKeyError: see :func:`open_manifest_bytes` (multi-recipient: also
            "not sealed to this key").
        ManifestError: the plaintext is not a valid manifest.
    """
    if sealed[:4] == b"CTMR":
        from envelope.recipients import open_manifest_multi

        return open_manifest_multi(sealed, private_key, job_id)
    return parse(open_manifest_bytes(sealed, private_key, job_id))


def reply_info(job_id: str) -> bytes:
    """HPKE info for a reply: ``cloudtab/v2 reply:`` + UTF-8 job id.

    Raises:
        ManifestError: empty, too long, or containing control characters.
    """
    return REPLY_INFO_PREFIX + job_info(job_id)[len(JOB_INFO_PREFIX) :]


def seal_reply(reply_key: bytes | PublicKey, job_id: str, plaintext: bytes) -> bytes:
    """HPKE-seal details for the customer's page to the manifest's reply key: enc || ciphertext.

    Same suite as the manifest; info = "cloudtab/v2 reply:" + job id; the
    plaintext is at most 64 KiB (its format belongs to the caller).

    Raises:
        InvalidKeyError: the reply key is not a P-256 point.
        ManifestError: invalid job id or plaintext too large.
    """
    if len(plaintext) > MAX_REPLY_SIZE:
        raise ManifestError("reply too large")
    key = public_key_from_bytes(reply_key) if isinstance(reply_key, bytes) else reply_key
    return SUITE.encrypt(plaintext, key, info=reply_info(job_id))


def open_reply(sealed: bytes, private_key: PrivateKey, job_id: str) -> bytes:
    """HPKE-open a sealed reply (what the page does with its reply private key).

    Raises:
        WrongKeyError: wrong key, another job's reply, or altered.
        ManifestError: invalid job id.
    """
    info = reply_info(job_id)
    if len(sealed) < ENC_SIZE + 16 or len(sealed) > MAX_REPLY_SIZE + ENC_SIZE + 16:
        raise WrongKeyError("sealed reply has an impossible length")
    try:
        return SUITE.decrypt(sealed, private_key, info=info)
    except (InvalidTag, ValueError):
        raise WrongKeyError("reply does not open with this key for this job") from None
