"""The kiosk signs what it says about a job (docs/envelope.md §2.2).

Every state change the kiosk reports (received, printing, completed, rejected) carries a
signature by the kiosk's signing key over the job id, the state, the reason, the kiosk's
clock, the SHA-256 of the sealed manifest and the statement's wait reason and sealed
detail. The relay forwards it unchanged; the customer's page verifies it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from envelope.receipt import Receipt, sign_receipt
from kiosk.core.keystore import KeyStore


@dataclass(frozen=True)
class Signed:
    """A signature and the kiosk time (milliseconds since 1970 UTC) it covers."""

    signature: bytes
    sign_time_ms: int


class ReceiptSigner:
    """Signs receipts with the key store's signing key (nothing when the kiosk has none)."""

    def __init__(self, keystore: KeyStore, clock: Callable[[], float] = time.time) -> None:
        self.keystore = keystore
        self.clock = clock

    def sign(
        self,
        job_id: str,
        state: str,
        manifest_sha256: bytes,
        reason: str = "",
        wait_reason: str = "",
        detail_sha256: bytes = b"",
    ) -> Signed | None:
        """The signature of one change, or None when this kiosk has no signing key.

        Raises:
            KeyStoreError, WrongPassphrase: the signing key cannot be loaded.
            EnvelopeError: a field out of range (not a kiosk state, wrong digest size).
        """
        key = self.keystore.signing_key()
        if key is None:
            return None
        now_ms = int(self.clock() * 1000)
        receipt = Receipt(
            job_id=job_id,
            state=state,
            sign_time_ms=now_ms,
            manifest_sha256=manifest_sha256,
            reason=reason,
            wait_reason=wait_reason,
            detail_sha256=detail_sha256,
        )
        return Signed(sign_receipt(key, receipt), now_ms)
