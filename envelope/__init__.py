"""CloudTab end-to-end envelope: what the relay carries but never reads.

See docs/envelope.md for the normative format. Public API:

- keys: :func:`generate_private_key`, :func:`encode_public_key`,
  :func:`decode_public_key`, :func:`fingerprint`, :func:`fingerprint_display`,
  PKCS#8 load/save.
- manifest: :class:`Manifest` and friends, :func:`seal_manifest`,
  :func:`open_manifest` (opens both forms).
- recipients: :func:`seal_manifest_multi` (one job, several kiosk keys),
  :func:`open_manifest_multi`, :func:`recipients`.
- stream: :func:`file_key`, :func:`seal_stream`, :func:`open_stream`,
  :func:`seal_bytes`, :func:`open_bytes`, :func:`ciphertext_size`,
  :data:`RECORD_SIZE`.
- bundle: :func:`write_bundle`, :func:`open_bundle`.
"""

from envelope.bundle import (
    BundleHeader,
    SourceFile,
    open_bundle,
    read_header,
    write_bundle,
)
from envelope.errors import (
    BundleError,
    DigestMismatchError,
    EnvelopeError,
    InvalidKeyError,
    ManifestError,
    TamperedError,
    TrailingDataError,
    TruncatedError,
    WrongKeyError,
)
from envelope.keys import (
    decode_public_key,
    encode_public_key,
    fingerprint,
    fingerprint_display,
    generate_private_key,
    load_private_key,
    load_private_key_pem,
    private_key_to_pem,
    public_key_bytes,
    public_key_from_bytes,
    save_private_key,
)
from envelope.manifest import (
    Customer,
    FileEntry,
    JobOptions,
    Manifest,
    job_info,
    new_content_key,
    open_manifest,
    open_reply,
    seal_manifest,
    seal_reply,
)
from envelope.names import display_text, sanitize_name, unique_names
from envelope.recipients import open_manifest_multi, recipients, seal_manifest_multi
from envelope.stream import (
    RECORD_SIZE,
    TAG_SIZE,
    ciphertext_size,
    file_key,
    open_bytes,
    open_records,
    open_stream,
    plaintext_size,
    record_count,
    seal_bytes,
    seal_records,
    seal_stream,
)

__all__ = [
    "RECORD_SIZE",
    "TAG_SIZE",
    "BundleError",
    "BundleHeader",
    "Customer",
    "DigestMismatchError",
    "EnvelopeError",
    "FileEntry",
    "InvalidKeyError",
    "JobOptions",
    "Manifest",
    "ManifestError",
    "SourceFile",
    "TamperedError",
    "TrailingDataError",
    "TruncatedError",
    "WrongKeyError",
    "ciphertext_size",
    "decode_public_key",
    "display_text",
    "encode_public_key",
    "file_key",
    "fingerprint",
    "fingerprint_display",
    "generate_private_key",
    "job_info",
    "load_private_key",
    "load_private_key_pem",
    "new_content_key",
    "open_bundle",
    "open_bytes",
    "open_manifest",
    "open_manifest_multi",
    "open_records",
    "open_reply",
    "open_stream",
    "plaintext_size",
    "private_key_to_pem",
    "public_key_bytes",
    "public_key_from_bytes",
    "read_header",
    "recipients",
    "record_count",
    "sanitize_name",
    "save_private_key",
    "seal_bytes",
    "seal_manifest",
    "seal_manifest_multi",
    "seal_records",
    "seal_reply",
    "seal_stream",
    "unique_names",
    "write_bundle",
]
