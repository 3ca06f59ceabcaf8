"""Blob storage for uploaded ciphertext: local folder or Google Cloud Storage.

Use ``open_blob_store(gcs_bucket=..., gcs_prefix=..., data_dir=...)`` and code
against the ``BlobStore`` protocol.
"""

from relay_grpc.store.blobs.base import (
    BlobNotFoundError,
    BlobStore,
    BlobStoreError,
    BlobStoreFullError,
    BlobStorePermissionError,
    BlobStoreUnavailableError,
    OffsetMismatchError,
    validate_key,
    validate_prefix,
)
from relay_grpc.store.blobs.factory import open_blob_store

__all__ = [
    "BlobNotFoundError",
    "BlobStore",
    "BlobStoreError",
    "BlobStoreFullError",
    "BlobStorePermissionError",
    "BlobStoreUnavailableError",
    "OffsetMismatchError",
    "open_blob_store",
    "validate_key",
    "validate_prefix",
]
