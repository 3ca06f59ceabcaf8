"""Errors of the kiosk core.

Every failure the core reports is a :class:`KioskError` whose ``str()`` is a
plain sentence fit to show on the kiosk screen (never a key, token or document
byte).
"""

from __future__ import annotations

from typing import TypeVar


class KioskError(Exception):
    """Base of every error the kiosk core raises on purpose.

    ``file_number`` (1-based), ``page`` and ``page_count`` say which file and
    page an error is about when the core knows (:func:`locate`); they reach the
    customer only sealed to the page (``kiosk.core.reply``), never the relay.
    """

    file_number: int | None = None
    page: int | None = None
    page_count: int | None = None


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


E = TypeVar("E", bound=KioskError)


def locate(exc: E, *, file_number: int | None = None, page: int | None = None, page_count: int | None = None) -> E:
    """``exc`` with the file and page it is about (values already set are kept)."""
    if file_number is not None and exc.file_number is None:
        exc.file_number = file_number
    if page is not None and exc.page is None:
        exc.page = page
    if page_count is not None and exc.page_count is None:
        exc.page_count = page_count
    return exc


class PrinterError(KioskError):
    """The printer cannot be reached or refused the job."""
