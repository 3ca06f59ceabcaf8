"""Queries on the kiosks table (several kiosks per shop). No business rules here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from relay_grpc.store.models import Kiosk, Shop


async def by_token_hash(session: AsyncSession, *, token_hash: str) -> tuple[Kiosk, Shop] | None:
    """The active kiosk whose token hashes to ``token_hash`` and its shop, in one query, or None."""
    result = await session.exec(
        select(Kiosk, Shop)
        .join(Shop, col(Shop.id) == col(Kiosk.shop_id))
        .where(Kiosk.token_hash == token_hash, col(Kiosk.revoked_at).is_(None))
    )
    row = result.first()
    return None if row is None else (row[0], row[1])


async def active(session: AsyncSession, *, shop_id: str) -> Sequence[Kiosk]:
    """The shop's active kiosks, oldest first (the first one is the shop's lead key)."""
    result = await session.exec(
        select(Kiosk)
        .where(Kiosk.shop_id == shop_id, col(Kiosk.revoked_at).is_(None))
        .order_by(col(Kiosk.created_at), col(Kiosk.id))
    )
    return result.all()


async def active_token_hashes(session: AsyncSession, *, shop_ids: Iterable[str]) -> dict[str, set[str]]:
    """Token hashes of the active kiosks of these unrevoked shops, per shop, in one query."""
    ids = list(set(shop_ids))
    if not ids:
        return {}
    result = await session.exec(
        select(Kiosk.shop_id, Kiosk.token_hash)
        .join(Shop, col(Shop.id) == col(Kiosk.shop_id))
        .where(col(Kiosk.shop_id).in_(ids), col(Kiosk.revoked_at).is_(None), col(Shop.revoked_at).is_(None))
    )
    out: dict[str, set[str]] = {}
    for shop_id, token in result.all():
        if token is not None:
            out.setdefault(shop_id, set()).add(token)
    return out
