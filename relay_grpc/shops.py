"""Shops: admin operations (add, list, revoke, new code), enrollment, token
authentication, key rotation and the public profile. No grpc here.
"""

from __future__ import annotations

import collections
import logging
import re
import secrets
import time
import unicodedata
from collections.abc import Callable, Sequence

from sqlmodel import col, select

from cloudtab_rpc.version import parse_version as _parse_version
from envelope.recipients import MAX_RECIPIENTS
from relay_grpc import tokens
from relay_grpc.capabilities import Capabilities, validate
from relay_grpc.config import RelayConfig
from relay_grpc.errors import Reason, RelayError
from relay_grpc.keys import fingerprint, fingerprint_display, validate_public_key
from relay_grpc.store import crud, kiosk_rows
from relay_grpc.store.db import Database
from relay_grpc.store.models import EnrollmentCode, Kiosk, Shop
from relay_grpc.views import KioskKeyView, KioskSummary, Limits, ShopProfile, ShopSummary

log = logging.getLogger(__name__)

ENROLLMENT_CODE_TTL = 24 * 3600
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
MAX_NAME_LENGTH = 200
MAX_KIOSK_LABEL = 40
MAX_KIOSKS = MAX_RECIPIENTS  # a multi-recipient manifest names at most 16 keys (docs/envelope.md §5.2)
FIRST_KIOSK_LABEL = "Counter 1"


def slugify(name: str) -> str:
    """A URL-safe slug from a display name (lowercase ASCII, digits, dashes)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:48].strip("-")
    return slug or "shop"


def parse_version(version: str) -> tuple[int, int, int]:
    """``"1.2.3"`` (optionally with a ``-suffix``) -> (1, 2, 3); ``cloudtab_rpc.version``'s parser.

    Raises:
        RelayError: INVALID_REQUEST, not a semantic version.
    """
    try:
        return _parse_version(version)
    except ValueError:
        raise RelayError(
            Reason.INVALID_REQUEST, "kiosk_version must be a semantic version like 0.1.0", field="kiosk_version"
        ) from None


class Presence:
    """Kiosk streams open on this relay process, per shop."""

    def __init__(self) -> None:
        self._count: collections.Counter[str] = collections.Counter()

    def add(self, shop_id: str) -> None:
        """A stream of ``shop_id`` opened."""
        self._count[shop_id] += 1

    def remove(self, shop_id: str) -> int:
        """A stream closed; returns how many streams of the shop remain here."""
        self._count[shop_id] -= 1
        left = self._count[shop_id]
        if left <= 0:
            del self._count[shop_id]
        return max(left, 0)

    def local(self, shop_id: str) -> bool:
        """True if a stream of the shop is open on this process."""
        return self._count.get(shop_id, 0) > 0

    def shop_ids(self) -> list[str]:
        """Shops with a stream open on this process."""
        return list(self._count)

    def total(self) -> int:
        """Open kiosk streams on this process."""
        return sum(self._count.values())


class ShopService:
    """Everything about shops; one instance per relay process (or CLI run)."""

    def __init__(
        self,
        db: Database,
        config: RelayConfig,
        *,
        presence: Presence | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.config = config
        self.presence = presence or Presence()
        self.clock = clock

    # ---- admin (CLI) -------------------------------------------------------------

    async def add_shop(self, name: str) -> tuple[str, str]:
        """Create a shop; returns (slug, one-time enrollment code valid 24 h).

        Raises:
            RelayError: INVALID_REQUEST, an empty or over-long name.
        """
        name = name.strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            raise RelayError(
                Reason.INVALID_REQUEST, f"shop name must be 1 to {MAX_NAME_LENGTH} characters", field="name"
            )
        now = self.clock()
        async with self.db.transaction() as session:
            slug = slugify(name)
            while await crud.slug_taken(session, slug=slug):
                slug = f"{slugify(name)[:43]}-{secrets.token_hex(2)}"
            shop = Shop(id=tokens.new_id(), slug=slug, display_name=name, created_at=now)
            session.add(shop)
            await session.flush()
            code = self._add_code(session, shop.id, now)
        log.info("shop added: %s", slug)
        return slug, code

    async def new_code(self, slug: str, kiosk_label: str | None = None) -> str:
        """Issue a new one-time enrollment code (older unused codes stop working).

        Without ``kiosk_label`` the kiosk that redeems it replaces every kiosk of
        the shop; with one it joins as another counter of that name.

        Raises:
            RelayError: SHOP_NOT_FOUND, no such shop, or it is revoked;
                INVALID_REQUEST, a bad or taken label, or the shop has 16 kiosks.
        """
        label = None if kiosk_label is None else self._check_label(kiosk_label)
        now = self.clock()
        async with self.db.transaction() as session:
            shop = await crud.get_shop_by_slug(session, slug=slug)
            if shop is None or shop.revoked_at is not None:
                raise RelayError(Reason.SHOP_NOT_FOUND, f"no active shop {slug!r}")
            if label is not None:
                kiosks = await kiosk_rows.active(session, shop_id=shop.id)
                self._check_room(kiosks, label)
            await crud.invalidate_enrollment_codes(session, shop_id=shop.id, now=now)
            code = self._add_code(session, shop.id, now, label)
        return code

    @staticmethod
    def _check_label(label: str) -> str:
        label = " ".join(label.split())
        if not label or len(label) > MAX_KIOSK_LABEL:
            raise RelayError(
                Reason.INVALID_REQUEST, f"kiosk label must be 1 to {MAX_KIOSK_LABEL} characters", field="label"
            )
        return label

    @staticmethod
    def _check_room(kiosks: Sequence[Kiosk], label: str) -> None:
        if any(k.label.casefold() == label.casefold() for k in kiosks):
            raise RelayError(Reason.INVALID_REQUEST, f"the shop already has a kiosk {label!r}", field="label")
        if len(kiosks) >= MAX_KIOSKS:
            raise RelayError(Reason.INVALID_REQUEST, f"a shop has at most {MAX_KIOSKS} kiosks", field="label")

    async def list_kiosks(self, slug: str) -> list[KioskSummary]:
        """Every kiosk of the shop (revoked ones too), oldest first.

        Raises:
            RelayError: SHOP_NOT_FOUND.
        """
        async with self.db.session() as session:
            shop = await crud.get_shop_by_slug(session, slug=slug)
            if shop is None:
                raise RelayError(Reason.SHOP_NOT_FOUND, f"no shop {slug!r}")
            result = await session.exec(
                select(Kiosk).where(Kiosk.shop_id == shop.id).order_by(col(Kiosk.created_at), col(Kiosk.id))
            )
            rows = result.all()
        return [
            KioskSummary(k.label, fingerprint_display(k.key_fingerprint), k.created_at, k.revoked_at is not None)
            for k in rows
        ]

    async def revoke_kiosk(self, slug: str, label: str) -> None:
        """Revoke one kiosk of an active shop: its token stops working at once (its
        stream ends on the next ticker pass); the shop's other kiosks go on. The
        shop's lead key becomes the oldest kiosk left.

        Raises:
            RelayError: SHOP_NOT_FOUND (no such active shop or active kiosk).
        """
        now = self.clock()
        async with self.db.transaction() as session:
            shop = await crud.get_shop_by_slug(session, slug=slug)
            if shop is None or shop.revoked_at is not None:
                raise RelayError(Reason.SHOP_NOT_FOUND, f"no active shop {slug!r}")
            kiosks = list(await kiosk_rows.active(session, shop_id=shop.id))
            match = [k for k in kiosks if k.label.casefold() == " ".join(label.split()).casefold()]
            if not match:
                raise RelayError(Reason.SHOP_NOT_FOUND, f"shop {slug!r} has no active kiosk {label!r}")
            kiosk = match[0]
            kiosk.revoked_at = now
            kiosk.token_hash = None
            session.add(kiosk)
            self._mirror_lead(shop, [k for k in kiosks if k is not kiosk])
            session.add(shop)
        log.info("kiosk revoked: %s %s", slug, kiosk.label)

    @staticmethod
    def _mirror_lead(shop: Shop, kiosks: Sequence[Kiosk]) -> None:
        """Shop.public_key / key_fingerprint follow the oldest active kiosk (old clients read them)."""
        lead = kiosks[0] if kiosks else None
        shop.public_key = lead.public_key if lead else None
        shop.key_fingerprint = lead.key_fingerprint if lead else None
        shop.signing_key = lead.signing_key if lead else None

    async def revoke(self, slug: str) -> str:
        """Revoke a shop: its token and codes stop working at once; returns its id.

        Its unfinished jobs are ended by ``JobService.end_shop_jobs``.

        Raises:
            RelayError: SHOP_NOT_FOUND.
        """
        now = self.clock()
        async with self.db.transaction() as session:
            shop = await crud.get_shop_by_slug(session, slug=slug)
            if shop is None:
                raise RelayError(Reason.SHOP_NOT_FOUND, f"no shop {slug!r}")
            shop.revoked_at = shop.revoked_at or now
            shop.token_hash = None
            for kiosk in await kiosk_rows.active(session, shop_id=shop.id):
                kiosk.revoked_at, kiosk.token_hash = now, None
                session.add(kiosk)
            await crud.invalidate_enrollment_codes(session, shop_id=shop.id, now=now)
        log.info("shop revoked: %s", slug)
        return shop.id

    async def list_shops(self) -> list[ShopSummary]:
        """Every shop, oldest first."""
        async with self.db.session() as session:
            shops = await crud.list_shops(session)
        return [
            ShopSummary(
                slug=s.slug,
                display_name=s.display_name,
                enrolled=s.public_key is not None,
                revoked=s.revoked_at is not None,
                key_fingerprint_display=fingerprint_display(s.key_fingerprint) if s.key_fingerprint else "",
                created_at=s.created_at,
                last_seen_at=s.last_seen_at,
            )
            for s in shops
        ]

    def _add_code(self, session, shop_id: str, now: float, label: str | None = None) -> str:  # type: ignore[no-untyped-def]
        code = tokens.new_enrollment_code()
        session.add(
            EnrollmentCode(
                shop_id=shop_id,
                code_hash=tokens.hash_token(code),
                created_at=now,
                expires_at=now + ENROLLMENT_CODE_TTL,
                kiosk_label=label,
            )
        )
        return code

    # ---- kiosk -----------------------------------------------------------------

    async def enroll(
        self, code: str, public_key: bytes, kiosk_version: str, signing_key: bytes = b""
    ) -> tuple[Shop, ShopProfile, str]:
        """Redeem a one-time code with the kiosk's public key; returns (shop, profile, token).

        A code without a kiosk label replaces the shop's kiosks (their tokens stop
        working); a labelled code adds this kiosk as another counter.

        Raises:
            RelayError: INVALID_REQUEST (not a P-256 point, a missing or malformed
                version, a key another kiosk of the shop has), ENROLLMENT_CODE_INVALID
                (unknown, used or expired code, or a revoked shop), KIOSK_TOO_OLD
                (older than ``min_kiosk_version``).
        """
        validate_public_key(public_key)
        if signing_key:
            validate_public_key(signing_key, "signing_key")
        self.check_kiosk_version(kiosk_version)
        normalized = tokens.normalize_enrollment_code(code)
        if not normalized or len(normalized) > 64:
            raise RelayError(Reason.ENROLLMENT_CODE_INVALID, "invalid enrollment code")
        now = self.clock()
        token = tokens.new_token()
        async with self.db.transaction() as session:
            row = await crud.get_enrollment_code(session, code_hash=tokens.hash_token(normalized), for_update=True)
            if row is None or row.used_at is not None or row.expires_at <= now:
                raise RelayError(Reason.ENROLLMENT_CODE_INVALID, "invalid, used or expired enrollment code")
            shop = await crud.get_shop(session, shop_id=row.shop_id)
            if shop is None or shop.revoked_at is not None:
                raise RelayError(Reason.ENROLLMENT_CODE_INVALID, "invalid, used or expired enrollment code")
            row.used_at = now
            kiosks = list(await kiosk_rows.active(session, shop_id=shop.id))
            if row.kiosk_label is None:  # replace every kiosk (first enrolment or re-install)
                for old in kiosks:
                    old.revoked_at, old.token_hash = now, None
                    session.add(old)
                await session.flush()
                kiosks, label = [], FIRST_KIOSK_LABEL
                shop.token_hash = tokens.hash_token(token)
            else:
                label = row.kiosk_label
                self._check_room(kiosks, label)
                if any(k.public_key == public_key for k in kiosks):
                    raise RelayError(
                        Reason.INVALID_REQUEST, "another kiosk of the shop has this key", field="public_key"
                    )
            kiosk = Kiosk(
                id=tokens.new_id(),
                shop_id=shop.id,
                label=label,
                public_key=public_key,
                key_fingerprint=fingerprint(public_key),
                signing_key=signing_key or None,
                token_hash=tokens.hash_token(token),
                kiosk_version=kiosk_version or None,
                created_at=now,
            )
            kiosks.append(kiosk)
            self._mirror_lead(shop, kiosks)
            shop.kiosk_version = kiosk_version or None
            session.add_all([row, shop, kiosk])
        log.info("kiosk enrolled: %s %s", shop.slug, label)
        return shop, self.profile(shop, kiosks), token

    def check_kiosk_version(self, kiosk_version: str) -> None:
        """Refuse kiosks older than ``min_kiosk_version``; every kiosk must say its version.

        Raises:
            RelayError: INVALID_REQUEST (missing or malformed version), KIOSK_TOO_OLD
                (older than the minimum, sent as ``min_kiosk_version``).
        """
        if not kiosk_version.strip():
            raise RelayError(Reason.INVALID_REQUEST, "kiosk_version is required", field="kiosk_version")
        minimum = self.config.min_kiosk_version
        if parse_version(kiosk_version) < parse_version(minimum):
            raise RelayError(
                Reason.KIOSK_TOO_OLD, f"kiosk too old: this relay needs at least {minimum}", min_kiosk_version=minimum
            )

    async def authenticate(self, token: str) -> Shop:
        """The enrolled, unrevoked shop owning ``token``.

        Raises:
            RelayError: TOKEN_INVALID, a malformed, unknown or revoked token.
        """
        if not tokens.plausible_token(token):
            raise RelayError(Reason.TOKEN_INVALID, "invalid shop token")
        digest = tokens.hash_token(token)
        # Not cached: a revoked token must fail on the very next call. Bounded, so a
        # burst of reconnecting kiosks queues instead of draining the pool.
        async with self.db.slots, self.db.session() as session:
            found = await kiosk_rows.by_token_hash(session, token_hash=digest)
        if found is None:
            raise RelayError(Reason.TOKEN_INVALID, "invalid shop token")
        kiosk, shop = found
        if shop.revoked_at is not None or not tokens.token_matches(token, kiosk.token_hash):
            raise RelayError(Reason.TOKEN_INVALID, "invalid shop token")
        # The calling kiosk's token, not the shop row's: streams end when *this* kiosk is revoked.
        return shop.model_copy(update={"token_hash": kiosk.token_hash})

    async def rotate_key(
        self, shop_id: str, public_key: bytes, signing_key: bytes = b"", *, token_hash: str | None = None
    ) -> ShopProfile:
        """Replace the public key (and the signing key, when one is given) of the calling
        kiosk (``token_hash``; None: the lead kiosk).

        Raises:
            RelayError: INVALID_REQUEST (not a P-256 point, another kiosk's key),
                TOKEN_INVALID (the shop or kiosk was revoked meanwhile).
        """
        validate_public_key(public_key)
        if signing_key:
            validate_public_key(signing_key, "signing_key")
        async with self.db.transaction() as session:
            shop = await crud.get_shop(session, shop_id=shop_id)
            if shop is None or shop.revoked_at is not None:
                raise RelayError(Reason.TOKEN_INVALID, "invalid shop token")
            kiosks = list(await kiosk_rows.active(session, shop_id=shop_id))
            mine = [k for k in kiosks if token_hash is None or k.token_hash == token_hash][:1]
            if not mine:
                raise RelayError(Reason.TOKEN_INVALID, "invalid shop token")
            if any(k.public_key == public_key for k in kiosks if k is not mine[0]):
                raise RelayError(Reason.INVALID_REQUEST, "another kiosk of the shop has this key", field="public_key")
            mine[0].public_key = public_key
            mine[0].key_fingerprint = fingerprint(public_key)
            if signing_key:
                mine[0].signing_key = signing_key
            self._mirror_lead(shop, kiosks)
            session.add_all([shop, mine[0]])
        log.info("kiosk key rotated: %s %s", shop.slug, mine[0].label)
        return self.profile(shop, kiosks)

    async def publish_capabilities(self, shop_id: str, caps: Capabilities) -> ShopProfile:
        """Store what the shop's kiosk published (replacing the previous); GetShop serves it.

        Raises:
            RelayError: INVALID_REQUEST (see :func:`relay_grpc.capabilities.validate`);
                TOKEN_INVALID when the shop was revoked meanwhile.
        """
        stored = validate(caps).to_json()
        async with self.db.transaction() as session:
            shop = await crud.get_shop(session, shop_id=shop_id)
            if shop is None or shop.revoked_at is not None:
                raise RelayError(Reason.TOKEN_INVALID, "invalid shop token")
            shop.capabilities = stored
            session.add(shop)
            kiosks = await kiosk_rows.active(session, shop_id=shop_id)
        log.info("shop capabilities published: %s", shop.slug)
        return self.profile(shop, kiosks)

    async def set_many_seen(self, seen: list[str], gone: list[str]) -> None:
        """Refresh ``last_seen_at`` of the ``seen`` shops and clear it for the ``gone``
        ones, in one transaction of at most two UPDATEs (the stream ticker's batch)."""
        if not seen and not gone:
            return
        async with self.db.transaction() as session:
            await crud.set_shops_seen(session, shop_ids=seen, seen_at=self.clock())
            await crud.set_shops_seen(session, shop_ids=gone, seen_at=None)

    # ---- public ------------------------------------------------------------------

    async def get_profile(self, slug: str) -> ShopProfile:
        """The public profile of an enrolled, active shop.

        Raises:
            RelayError: INVALID_REQUEST (malformed slug), SHOP_NOT_FOUND (unknown,
                revoked or not yet enrolled shop).
        """
        if not SLUG_RE.match(slug):
            raise RelayError(
                Reason.INVALID_REQUEST, "slug must be lowercase letters, digits and dashes, at most 64", field="slug"
            )
        async with self.db.session() as session:
            shop = await crud.get_shop_by_slug(session, slug=slug)
            if shop is None or shop.revoked_at is not None or shop.public_key is None:
                raise RelayError(Reason.SHOP_NOT_FOUND, f"no shop {slug!r}")
            kiosks = await kiosk_rows.active(session, shop_id=shop.id)
        return self.profile(shop, kiosks)

    def profile(self, shop: Shop, kiosks: Sequence[Kiosk] = ()) -> ShopProfile:
        """The public profile of an enrolled shop row and its active kiosks (oldest first)."""
        c = self.config
        caps = Capabilities.from_json(shop.capabilities) if shop.capabilities else None
        return ShopProfile(
            shop_id=shop.id,
            slug=shop.slug,
            display_name=shop.display_name,
            public_key=shop.public_key or b"",
            key_fingerprint=shop.key_fingerprint or b"",
            key_fingerprint_display=fingerprint_display(shop.key_fingerprint) if shop.key_fingerprint else "",
            limits=self.limits,
            accepted_media_types=caps.accepted_media_types if caps else tuple(c.accepted_media_types),
            retention_seconds=c.retention_seconds,
            online=self.is_online(shop),
            min_kiosk_version=c.min_kiosk_version,
            capabilities=caps,
            signing_key=shop.signing_key or b"",
            kiosk_keys=tuple(
                KioskKeyView(k.label, k.public_key, k.key_fingerprint, k.signing_key or b"") for k in kiosks
            ),
        )

    @property
    def limits(self) -> Limits:
        """The upload limits every shop of this relay applies."""
        c = self.config
        return Limits(c.max_file_bytes, c.max_job_bytes, c.max_files_per_job, c.max_chunk_bytes)

    def is_online(self, shop: Shop) -> bool:
        """A kiosk is subscribed here, or another relay saw one within a few heartbeats."""
        if self.presence.local(shop.id):
            return True
        window = max(self.config.heartbeat_seconds * 3, 5.0)
        return shop.last_seen_at is not None and self.clock() - shop.last_seen_at < window
