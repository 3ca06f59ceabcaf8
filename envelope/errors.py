"""Exceptions raised by the envelope package.

Every failure is an :class:`EnvelopeError`. Authentication failures share one
branch (:class:`TamperedError`) so callers that only care "is it genuine?" can
catch one class, while tests and the CLI can still say *what* went wrong.
Messages never contain key material or plaintext.
"""

from __future__ import annotations


class EnvelopeError(Exception):
    """Base class for every envelope failure."""


class InvalidKeyError(EnvelopeError):
    """A key is malformed: bad encoding, not a P-256 point, wrong passphrase."""


class WrongKeyError(EnvelopeError):
    """The private key does not open this envelope.

    Raised when a sealed manifest fails HPKE authentication with the given key
    and job id (the three causes - wrong key, another job's manifest, altered
    bytes - are indistinguishable by design), and when a bundle names another
    key fingerprint.
    """


class TamperedError(EnvelopeError):
    """Ciphertext failed authentication or does not match the manifest."""


class TruncatedError(TamperedError):
    """The ciphertext stream ends before its final record."""


class TrailingDataError(TamperedError):
    """Bytes follow the final record of a ciphertext stream."""


class DigestMismatchError(TamperedError):
    """An opened file's size or SHA-256 differs from the manifest."""


class ManifestError(EnvelopeError):
    """A manifest is not valid JSON or breaks the schema."""


class BundleError(EnvelopeError):
    """A bundle folder is missing parts or its job.json is malformed."""
