"""Bundle folders: a sealed job on disk, as the CLI writes and reads it.

Layout: ``job.json`` = {"v":1, "job_id":..., "key_fingerprint": hex SHA-256
of the shop key, "manifest": base64url(sealed manifest), "files": count} and
``files/0``, ``files/1``, ... holding each file's record stream.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envelope.b64 import b64url_decode, b64url_encode
from envelope.errors import (
    BundleError,
    EnvelopeError,
    ManifestError,
    TamperedError,
    WrongKeyError,
)
from envelope.keys import PrivateKey, PublicKey, fingerprint
from envelope.manifest import (
    MAX_FILES,
    Customer,
    FileEntry,
    JobOptions,
    Manifest,
    job_info,
    new_content_key,
    open_manifest,
    seal_manifest,
)
from envelope.stream import file_key, open_stream, seal_stream

logger = logging.getLogger(__name__)
JOB_FILE = "job.json"
FILES_DIR = "files"
MAX_JOB_FILE_SIZE = 2 << 20


@dataclass(frozen=True)
class BundleHeader:
    """The plaintext header of a bundle (job.json)."""

    job_id: str
    key_fingerprint: str
    sealed_manifest: bytes
    file_count: int


@dataclass(frozen=True)
class SourceFile:
    """A file to seal: where it is, what the manifest calls it, its copies and pages."""

    path: Path
    name: str
    media_type: str
    copies: int = 1
    page_ranges: str = ""


def write_bundle(
    out: Path,
    *,
    public_key: PublicKey,
    job_id: str,
    sources: Sequence[SourceFile],
    customer: Customer | None = None,
    options: JobOptions | None = None,
    content_key: bytes | None = None,
    reply_key: bytes | None = None,
) -> Manifest:
    """Seal files and manifest into the bundle folder ``out`` (created, must be empty).

    Raises:
        BundleError: ``out`` exists and is not empty, or no/too many files.
        ManifestError: invalid job id, names or options.
        OSError: reading a source or writing the bundle failed.
    """
    if not 1 <= len(sources) <= MAX_FILES:
        raise BundleError(f"a job holds 1..{MAX_FILES} files")
    job_info(job_id)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BundleError(f"{out} exists and is not an empty folder")
    key = content_key if content_key is not None else new_content_key()
    (out / FILES_DIR).mkdir(parents=True, exist_ok=True)
    entries = []
    for index, source in enumerate(sources):
        with (
            source.path.open("rb") as src,
            (out / FILES_DIR / str(index)).open("xb") as dst,
        ):
            size, digest = seal_stream(file_key(key, index), src, dst)
        entries.append(
            FileEntry(
                name=source.name,
                type=source.media_type,
                size=size,
                sha256=digest,
                copies=source.copies,
                page_ranges=source.page_ranges,
            )
        )
    manifest = Manifest(
        content_key=key,
        files=tuple(entries),
        customer=customer or Customer(),
        options=options or JobOptions(),
        reply_key=reply_key,
    )
    header = {
        "v": 1,
        "job_id": job_id,
        "key_fingerprint": fingerprint(public_key).hex(),
        "manifest": b64url_encode(seal_manifest(manifest, public_key, job_id)),
        "files": len(entries),
    }
    (out / JOB_FILE).write_text(json.dumps(header, indent=1) + "\n", encoding="utf-8")
    logger.info("sealed job %s with %d file(s)", job_id, len(entries))
    return manifest


def read_header(bundle: Path) -> BundleHeader:
    """Read and check job.json.

    Raises:
        BundleError: missing, too large, not JSON, or malformed fields.
    """
    path = bundle / JOB_FILE
    try:
        raw = path.read_bytes() if path.stat().st_size <= MAX_JOB_FILE_SIZE else None
    except OSError:
        raise BundleError(f"{JOB_FILE}: missing or unreadable") from None
    if raw is None:
        raise BundleError(f"{JOB_FILE}: too large")
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BundleError(f"{JOB_FILE}: not UTF-8 JSON") from None
    if not isinstance(data, dict) or data.get("v") != 1:
        raise BundleError(f"{JOB_FILE}: not a version 1 bundle")
    job_id, fpr, sealed, count = (data.get(k) for k in ("job_id", "key_fingerprint", "manifest", "files"))
    if not isinstance(job_id, str) or not isinstance(fpr, str) or not isinstance(sealed, str):
        raise BundleError(f"{JOB_FILE}: job_id, key_fingerprint and manifest must be strings")
    if type(count) is not int or not 1 <= count <= MAX_FILES:
        raise BundleError(f"{JOB_FILE}: 'files' must be 1..{MAX_FILES}")
    try:
        job_info(job_id)
        manifest = b64url_decode(sealed)
    except (ManifestError, ValueError):
        raise BundleError(f"{JOB_FILE}: bad job_id or manifest encoding") from None
    return BundleHeader(
        job_id=job_id,
        key_fingerprint=fpr.lower(),
        sealed_manifest=manifest,
        file_count=count,
    )


def open_bundle(bundle: Path, private_key: PrivateKey, work_dir: Path) -> tuple[Manifest, list[Path]]:
    """Verify everything and write each plaintext to ``work_dir/<index>``.

    On an exception the caller MUST discard ``work_dir`` entirely.

    Raises:
        BundleError: malformed bundle, file count differs from the manifest.
        WrongKeyError: the bundle is sealed to another shop key.
        TamperedError (and subclasses): manifest or a file failed
            authentication or does not match the manifest; the message names
            the file.
        ManifestError: the opened manifest is invalid.
    """
    header = read_header(bundle)
    mine = fingerprint(private_key).hex()
    if header.key_fingerprint != mine:
        raise WrongKeyError("bundle is sealed to another shop key (fingerprint differs)")
    try:
        manifest = open_manifest(header.sealed_manifest, private_key, header.job_id)
    except WrongKeyError:
        raise TamperedError(
            f"manifest: does not open for job {header.job_id!r} (altered or from another job)"
        ) from None
    if len(manifest.files) != header.file_count:
        raise BundleError(f"{JOB_FILE}: says {header.file_count} files, manifest lists {len(manifest.files)}")
    outputs = []
    for index, entry in enumerate(manifest.files):
        label = f"{FILES_DIR}/{index} ({entry.name})"
        target = work_dir / str(index)
        try:
            with (
                (bundle / FILES_DIR / str(index)).open("rb") as src,
                target.open("xb") as dst,
            ):
                open_stream(
                    file_key(manifest.content_key, index),
                    src,
                    dst,
                    expected_size=entry.size,
                    expected_sha256=entry.sha256,
                )
        except FileNotFoundError:
            raise BundleError(f"{label}: missing") from None
        except EnvelopeError as exc:
            raise type(exc)(f"{label}: {exc}") from None
        outputs.append(target)
    extra = sorted(
        p.name for p in (bundle / FILES_DIR).iterdir() if p.name not in {str(i) for i in range(len(manifest.files))}
    )
    if extra:
        raise BundleError(f"{FILES_DIR}/{extra[0]}: not listed in the manifest")
    return manifest, outputs
