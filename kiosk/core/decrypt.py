"""Open a job's envelope in memory: the sealed manifest, then each file record by record.

Plaintext goes into ``bytearray`` buffers sized from the manifest, so they
can be overwritten when the job is done (:func:`kiosk.core.render.wipe_buffer`).
Every failure is a :class:`DecryptError` naming what failed, never why in
cryptographic detail.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

import envelope
from kiosk.core.errors import DecryptError
from kiosk.core.jobs import FileInfo, PrintOptions
from kiosk.core.render import wipe_buffer

log = logging.getLogger(__name__)

MAX_JOB_PLAINTEXT = 1 << 30  # 1 GiB in memory at most

_SIDES = {"none": "one-sided", "long": "two-sided-long-edge", "short": "two-sided-short-edge"}
_COLOR = {"bw": "monochrome", "color": "color"}


@dataclass(frozen=True)
class JobManifest:
    """What the kiosk keeps of an opened manifest. ``content_key`` never appears in repr."""

    customer_name: str
    note: str
    files: tuple[FileInfo, ...]
    digests: tuple[str, ...]
    options: PrintOptions
    content_key: bytes

    def __repr__(self) -> str:
        return f"JobManifest(files={len(self.files)}, options={self.options!r})"


def options_from_envelope(opts: envelope.PrintOptions) -> PrintOptions:
    """Map the manifest's options (bw/color, none/long/short, A4...) to the kiosk's."""
    return PrintOptions(
        copies=opts.copies,
        sides=_SIDES.get(opts.duplex, "one-sided"),
        color=_COLOR.get(opts.color, "monochrome"),
        page_ranges=opts.pages,
        media=opts.paper,
    )


def open_job_manifest(sealed: bytes, private_key: envelope.keys.PrivateKey, job_id: str) -> JobManifest:
    """HPKE-open and validate the sealed manifest bound to ``job_id``.

    Raises:
        DecryptError: wrong key, another job's manifest, altered, or invalid.
    """
    if not sealed:
        raise DecryptError("the job has no manifest")
    try:
        manifest = envelope.open_manifest(sealed, private_key, job_id)
    except envelope.WrongKeyError:
        raise DecryptError("the job does not open with this kiosk's key (altered or sealed for another job)") from None
    except envelope.EnvelopeError:
        raise DecryptError("the job's manifest is not valid") from None
    total = sum(f.size for f in manifest.files)
    if total > MAX_JOB_PLAINTEXT:
        raise DecryptError("the job is too large for this kiosk's memory")
    # Names come from the customer: show one plain component, never a path,
    # control sequence or bidi override (see docs/security.md).
    names = envelope.unique_names([f.name for f in manifest.files])
    files = tuple(
        FileInfo(name=name, media_type=f.type, size=f.size) for name, f in zip(names, manifest.files, strict=True)
    )
    return JobManifest(
        customer_name=envelope.display_text(manifest.customer.name, 200),
        note=envelope.display_text(manifest.customer.note, 2000),
        files=files,
        digests=tuple(f.sha256 for f in manifest.files),
        options=options_from_envelope(manifest.options),
        content_key=manifest.content_key,
    )


def decrypt_file(manifest: JobManifest, index: int, ciphertext: bytes | bytearray) -> bytearray:
    """Open file ``index`` record by record into a new bytearray and verify size and SHA-256.

    On failure nothing decrypted survives (the partial buffer is wiped).

    Raises:
        DecryptError: tampered, truncated, wrong size or digest, bad index.
    """
    if not 0 <= index < len(manifest.files):
        raise DecryptError(f"the job has no file {index + 1}")
    size = manifest.files[index].size
    if envelope.ciphertext_size(size) != len(ciphertext):
        raise DecryptError(f"file {index + 1} does not have the size the manifest says")
    out = bytearray(size)
    digest = hashlib.sha256()
    pos = 0
    try:
        key = envelope.file_key(manifest.content_key, index)
        for record in envelope.open_records(key, ciphertext):
            end = pos + len(record)
            if end > size:
                raise DecryptError(f"file {index + 1} is longer than the manifest says")
            out[pos:end] = record
            digest.update(record)
            pos = end
        if pos != size:
            raise DecryptError(f"file {index + 1} is shorter than the manifest says")
        if not hmac.compare_digest(digest.hexdigest(), manifest.digests[index]):
            raise DecryptError(f"file {index + 1} does not match its checksum (altered)")
    except envelope.EnvelopeError:
        wipe_buffer(out)
        raise DecryptError(f"file {index + 1} failed authentication (altered or truncated)") from None
    except (DecryptError, ValueError) as exc:
        wipe_buffer(out)
        if isinstance(exc, DecryptError):
            raise
        raise DecryptError(f"file {index + 1} cannot be decrypted") from None
    return out
