"""Errors of the kiosk core.

Every failure the core reports is a :class:`KioskError` whose ``str()`` is a
plain sentence fit to show on the kiosk screen (never a key, token or document
byte).
"""

from __future__ import annotations


class KioskError(Exception):
    """Base of every error the kiosk core raises on purpose."""


class ConfigError(KioskError):
    """The data folder or settings file is unusable."""


class KeyStoreError(KioskError):
    """A private key or the token cannot be stored or loaded."""


class WrongPassphrase(KeyStoreError):
    """The key file is encrypted and the passphrase is missing or wrong."""


class EnrollmentError(KioskError):
    """Enrollment or key rotation at the relay failed."""


class RelayError(KioskError):
    """A call to the relay failed.

    ``code`` is the gRPC status name when there was one, ``reason`` the relay's
    ErrorInfo reason (a ``cloudtab_rpc.reasons.Reason`` name) and ``gone`` True when
    the relay no longer has or allows the job (withdrawn, expired, finished, its data
    missing), so retrying cannot help.
    """

    def __init__(self, message: str, code: str | None = None, reason: str | None = None, gone: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.gone = gone


class NotAuthorized(RelayError):
    """The relay rejected the shop token (revoked or re-enrolled elsewhere)."""


class UpdateNeeded(RelayError):
    """The relay refuses this kiosk version."""


class JobError(KioskError):
    """A job cannot be fetched, opened or handled."""


class JobNotFound(JobError):
    """No job with this id in the queue."""


class DecryptError(JobError):
    """The job cannot be decrypted or fails verification (tampered, wrong key)."""


class DocumentError(JobError):
    """A decrypted file cannot be opened or rendered."""


class PasswordProtected(DocumentError):
    """The PDF needs a password."""


class DocumentTooLarge(DocumentError):
    """The document or image is too large to handle safely."""


class UnsupportedMedia(DocumentError):
    """The file type is not one the kiosk can print."""


class PageRangeError(KioskError, ValueError):
    """A page-range string such as "1-3,5" is malformed or out of range."""


class PrinterError(KioskError):
    """The printer cannot be reached or refused the job."""
