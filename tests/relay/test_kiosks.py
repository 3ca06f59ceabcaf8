"""Several kiosks per shop, in process on SQLite with an injected clock (tests/relay/test_domain.py's harness).

Each kiosk enrols with its own code and key; GetShop's profile lists every active
key (oldest first, Shop.public_key the first); a job can name any active key;
every kiosk streams the shop's jobs; revoking one kiosk ends its token and
stream while the others go on.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from relay_grpc.errors import Reason, RelayError
from relay_grpc.keys import fingerprint
from relay_grpc.views import EventView, JobState
from tests.relay.helpers import new_public_key
from tests.relay.test_domain import Domain, _reason, _take, run


async def _next_event(stream: object) -> EventView:
    while True:
        item = await asyncio.wait_for(anext(stream), 5)  # type: ignore[call-overload]
        if isinstance(item, EventView):
            return item


def test_two_kiosks_enrol_stream_and_one_is_revoked(tmp_path: Path) -> None:
    async def scenario(d: Domain) -> None:
        slug, code = await d.shops.add_shop("Two Counters")
        key1, key2 = new_public_key(), new_public_key()
        shop, _p, token1 = await d.shops.enroll(code, key1, "0.1.0")
        d.clock.advance(1)
        code2 = await d.shops.new_code(slug, "Counter 2")
        assert (await _reason(d.shops.new_code(slug, "counter 1")))[0] == Reason.INVALID_REQUEST  # label taken
        code2 = await d.shops.new_code(slug, "Counter 2")  # the newest code is the valid one
        _s, profile, token2 = await d.shops.enroll(code2, key2, "0.1.0")
        assert [(k.label, k.public_key) for k in profile.kiosk_keys] == [("Counter 1", key1), ("Counter 2", key2)]
        assert profile.public_key == key1 and profile.key_fingerprint == fingerprint(key1)
        served = await d.shops.get_profile(slug)
        assert [k.key_fingerprint for k in served.kiosk_keys] == [fingerprint(key1), fingerprint(key2)]

        k1, k2 = await d.shops.authenticate(token1), await d.shops.authenticate(token2)
        assert k1.id == k2.id == shop.id
        stream1 = d.streams.shop_stream(k1, 0, "0.1.0")
        stream2 = d.streams.shop_stream(k2, 0, "0.1.0")
        try:
            # A job may name either kiosk's key; an unknown key is KEY_CHANGED.
            for key in (key1, key2):
                await d.jobs.create_job(shop_slug=slug, file_sizes=[3], key_fingerprint=fingerprint(key), peer="t")
            other = fingerprint(new_public_key())
            refused = d.jobs.create_job(shop_slug=slug, file_sizes=[3], key_fingerprint=other, peer="t")
            assert (await _reason(refused))[0] == Reason.KEY_CHANGED
            job, _ = await d.job(served)  # submitted: both kiosks see it
            seen = [(await _next_event(s)).job.job_id for s in (stream1, stream2)]
            assert seen == [job, job]
            await d.jobs.update(shop.id, job, JobState.RECEIVED)
            assert [(await _next_event(s)).job.state.value for s in (stream1, stream2)] == ["received", "received"]

            await d.shops.revoke_kiosk(slug, "Counter 2")
            assert (await _reason(d.shops.authenticate(token2)))[0] == Reason.TOKEN_INVALID
            await d.streams.ticker.tick()
            with pytest.raises(RelayError) as caught:
                await _take(stream2, 5)
            assert caught.value.reason == Reason.TOKEN_INVALID
            # Counter 1 goes on: its token, its stream, new jobs to its key.
            assert (await d.shops.authenticate(token1)).id == shop.id
            job2, _ = await d.job(served)
            assert (await _next_event(stream1)).job.job_id == job2
            after = await d.shops.get_profile(slug)
            assert [k.label for k in after.kiosk_keys] == ["Counter 1"]
            refused = d.jobs.create_job(shop_slug=slug, file_sizes=[3], key_fingerprint=fingerprint(key2), peer="t")
            assert (await _reason(refused))[0] == Reason.KEY_CHANGED
            assert [(k.label, k.revoked) for k in await d.shops.list_kiosks(slug)] == [
                ("Counter 1", False),
                ("Counter 2", True),
            ]
        finally:
            await stream1.aclose()
            await stream2.aclose()

    run(tmp_path, scenario)


def test_revoking_the_lead_kiosk_moves_shop_key_and_a_plain_code_replaces_all(tmp_path: Path) -> None:
    async def scenario(d: Domain) -> None:
        slug, code = await d.shops.add_shop("Lead Shop")
        key1, key2, key3 = new_public_key(), new_public_key(), new_public_key()
        await d.shops.enroll(code, key1, "0.1.0")
        d.clock.advance(1)
        _s, _p, token2 = await d.shops.enroll(await d.shops.new_code(slug, "Tablet"), key2, "0.1.0")
        await d.shops.revoke_kiosk(slug, "Counter 1")
        profile = await d.shops.get_profile(slug)
        assert profile.public_key == key2 and [k.label for k in profile.kiosk_keys] == ["Tablet"]
        # Rotation changes the calling kiosk's key only.
        rotated = await d.shops.rotate_key(
            profile.shop_id, key3, token_hash=(await d.shops.authenticate(token2)).token_hash
        )
        assert [k.public_key for k in rotated.kiosk_keys] == [key3]
        # A code without a label: the new kiosk replaces every kiosk of the shop.
        _s, fresh, _t = await d.shops.enroll(await d.shops.new_code(slug), key1, "0.1.0")
        assert [(k.label, k.public_key) for k in fresh.kiosk_keys] == [("Counter 1", key1)]
        assert (await _reason(d.shops.authenticate(token2)))[0] == Reason.TOKEN_INVALID

    run(tmp_path, scenario)
