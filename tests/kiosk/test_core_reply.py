"""The detail the kiosk seals to the customer's page (kiosk.core.reply, docs/envelope.md §5.3)."""

from __future__ import annotations

import json

import pytest

import envelope
from kiosk.core import reply
from kiosk.core.config import PriceTable
from kiosk.core.errors import PageRangeError
from kiosk.core.options import PrintOptions
from kiosk.core.printing.plan import plan_print
from kiosk.core.reasons import RejectReason

JOB = "job-reply-domain"


def test_detail_round_trip_through_the_reply_key() -> None:
    page_key = envelope.generate_private_key()
    detail = reply.Detail(
        reason=RejectReason.PAGES,
        file=2,
        page=4299,
        file_pages=1,
        files=(reply.FilePages(3), reply.FilePages(1, converted=True)),
        amount_due=(120, "EUR"),
        note="  see  me ",
    )
    sealed = reply.seal(detail, envelope.public_key_bytes(page_key), JOB)
    plaintext = envelope.open_reply(sealed, page_key, JOB)
    assert json.loads(plaintext) == {
        "v": 1,
        "reason": "pages",
        "file": 2,
        "page": 4299,
        "file_pages": 1,
        "files": [{"pages": 3}, {"pages": 1, "converted": True}],
        "amount_due": {"cents": 120, "currency": "EUR"},
        "note": "see me",
    }
    assert reply.parse(plaintext) == reply.Detail(**{**detail.__dict__, "note": "see me"})
    with pytest.raises(envelope.WrongKeyError):
        envelope.open_reply(sealed, page_key, "job-other")


def test_nothing_is_sealed_without_a_reply_key_or_a_detail() -> None:
    key = envelope.public_key_bytes(envelope.generate_private_key())
    assert reply.seal(reply.Detail(file=1), None, JOB) == b""
    assert reply.seal(reply.Detail(), key, JOB) == b""


def test_the_sealed_detail_fits_the_relays_limit() -> None:
    key = envelope.public_key_bytes(envelope.generate_private_key())
    big = reply.Detail(
        reason=RejectReason.COUNTER,
        files=tuple(reply.FilePages(2**30, converted=True) for _ in range(100)),
        note="€" * 2000,
    )
    sealed = reply.seal(big, key, JOB)
    assert len(sealed) <= reply.MAX_SEALED  # the note is cut to 500 characters, the page counts dropped


@pytest.mark.parametrize(
    "text",
    [b"not json", b'{"v":2,"file":1}', b'{"v":1,"file":-1}', b'{"v":1,"reason":"free text"}', b'{"v":1,"note":7}'],
)
def test_parse_refuses_what_is_not_the_schema(text: bytes) -> None:
    with pytest.raises(reply.DetailError):
        reply.parse(text)


def test_a_page_range_error_says_which_file_and_page() -> None:
    own = (PrintOptions(page_ranges="1-2"), PrintOptions(page_ranges="4299"))
    with pytest.raises(PageRangeError) as caught:
        plan_print([3, 1], PrintOptions(), PriceTable(), own)
    assert reply.located(caught.value) == reply.Detail(file=2, page=4299, file_pages=1)
    assert "4299" in str(caught.value)  # the kiosk's own screen still gets the full sentence
