"""Several kiosks (counters) for one shop: which counter has a job, which key opens it.

Every kiosk of a shop sees all its jobs. A kiosk says which counter made a
change in ``KioskStatement.kiosk_label``; a job another counter opened or is
printing shows "At Counter 2" and is not printed here unless the shopkeeper
overrides. A multi-recipient manifest (docs/envelope.md §5.2) names the key
fingerprints it is sealed to; the kiosk opens it with the one it holds. A job
sealed to keys that no ACTIVE kiosk of the shop holds (a revoked or replaced
kiosk) can never be opened: :func:`for_no_counter` says so, and the kiosk
declines it at once. No grpc here: protos are plain data.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from cloudtab.v1 import common_pb2

import envelope
from envelope.recipients import is_multi
from kiosk.core.errors import KioskError

HELD_STATES = (common_pb2.JOB_STATE_RECEIVED, common_pb2.JOB_STATE_PRINTING)
MAX_LABEL = 40
KEYSET_RECHECK = 2.0  # seconds: before declining a job, a key set read longer ago is read again
ELSEWHERE_RECHECK = 60.0  # seconds: while jobs wait for other counters, how often the key set is read


class ForAnotherCounter(KioskError):
    """The job is sealed to keys of other counters of the shop, not to this kiosk's."""

    def __init__(self, message: str, fingerprints: Collection[bytes] = ()) -> None:
        super().__init__(message)
        self.fingerprints = tuple(fingerprints)  # the recipients' key fingerprints


class TakenElsewhere(KioskError):
    """Another counter has the job; print here only when the shopkeeper overrides."""

    def __init__(self, label: str) -> None:
        super().__init__(f"{label} has this job")
        self.label = label


def own_label(shop: common_pb2.Shop, public_key: bytes) -> str:
    """This kiosk's counter name in the shop's key list ("" when the relay lists none)."""
    for entry in shop.kiosk_keys:
        if bytes(entry.public_key) == public_key:
            return entry.label[:MAX_LABEL]
    return ""


def key_listed(shop: common_pb2.Shop, public_key: bytes) -> bool:
    """The relay's answer names this kiosk's key (as a kiosk key, or as the shop key of an old relay)."""
    if any(bytes(k.public_key) == public_key for k in shop.kiosk_keys):
        return True
    return bytes(shop.public_key) in (b"", public_key)


ANOTHER_COUNTER = "another counter"


def taken_by(job: common_pb2.Job, label: str, elsewhere: bool = False) -> str:
    """The other counter that opened or is printing ``job`` ("" when none, or it is this one).

    ``elsewhere``: the job is sealed to other counters only; until one of them
    names itself, it is at "another counter".
    """
    other = job.kiosk_statement.kiosk_label if job.HasField("kiosk_statement") else ""
    if job.state in HELD_STATES and other and other != label:
        return other
    return ANOTHER_COUNTER if elsewhere else ""


def labelled(label: str, statement: common_pb2.KioskStatement | None = None) -> common_pb2.KioskStatement | None:
    """``statement`` (or a new one) naming this counter; unchanged when the kiosk has no label."""
    if not label:
        return statement
    out = common_pb2.KioskStatement()
    if statement is not None:
        out.CopyFrom(statement)
    out.kiosk_label = label[:MAX_LABEL]
    return out


def active_fingerprints(shop: common_pb2.Shop) -> frozenset[bytes]:
    """SHA-256 fingerprints of the encryption keys of the shop's active kiosks (``Shop.kiosk_keys``)."""
    return frozenset(envelope.fingerprint(bytes(k.public_key)) for k in shop.kiosk_keys)


def for_no_counter(fingerprints: Collection[bytes], active: Collection[bytes]) -> bool:
    """No active kiosk of the shop holds any key the job is sealed to: nobody can ever open it."""
    return bool(fingerprints) and not any(fp in active for fp in fingerprints)


def recipient_fingerprints(sealed: bytes, job_fingerprint: bytes) -> list[bytes]:
    """The fingerprints of the keys a job is sealed to: a multi-recipient manifest's
    recipients, else the job's one key fingerprint.

    Raises:
        envelope.WrongKeyError: a malformed multi-recipient manifest.
    """
    return envelope.recipients(sealed) if is_multi(sealed) else [job_fingerprint]


def job_key_fingerprint(sealed: bytes, job_fingerprint: bytes, held: Callable[[bytes], bool]) -> bytes:
    """The fingerprint of the key this kiosk opens the job with.

    A multi-recipient manifest: the first recipient whose key ``held`` says the
    key store has; a single-recipient one: the job's key fingerprint.

    Raises:
        ForAnotherCounter: this kiosk holds none of the keys the job is sealed to.
    """
    try:
        candidates = recipient_fingerprints(sealed, job_fingerprint)
    except envelope.WrongKeyError:
        return job_fingerprint  # malformed: opening it says so
    for fp in candidates:
        if held(fp):
            return fp
    raise ForAnotherCounter("the job is sealed for another counter of the shop", candidates)
