"""Build the configured blob store: GCS when a bucket is given, else a local folder."""

from __future__ import annotations

from pathlib import Path

from relay_grpc.store.blobs.base import BlobStore


def open_blob_store(
    *,
    gcs_bucket: str | None,
    gcs_prefix: str = "",
    data_dir: Path,
    gcs_retry_timeout: float = 10.0,
) -> BlobStore:
    """Return a GCS store for ``gcs_bucket`` or a local store at ``data_dir / "blobs"``.

    With ``STORAGE_EMULATOR_HOST`` set the GCS client uses anonymous credentials,
    otherwise Application Default Credentials. Nothing is contacted here; call
    ``await store.check()`` to probe. ``gcs_retry_timeout`` bounds how long one GCS
    call retries before ``BlobStoreUnavailableError``.

    Raises:
        ValueError: ``gcs_prefix`` is not a valid key prefix.
        BlobStorePermissionError: the local folder cannot be created.
    """
    if gcs_bucket:
        from relay_grpc.store.blobs.gcs import GcsBlobStore

        return GcsBlobStore.from_env(bucket=gcs_bucket, prefix=gcs_prefix, retry_timeout=gcs_retry_timeout)
    from relay_grpc.store.blobs.local import LocalBlobStore

    return LocalBlobStore(Path(data_dir) / "blobs")
