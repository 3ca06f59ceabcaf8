"""Two kiosks (counters) of one shop, one in-process relay, the Python envelope as the customer.

Either counter opens and prints a job and the other sees it taken ("At Counter 2")
and will not print it without an override; a job sealed to one counter's key only
waits for that counter and is never rejected by the other; revoking one kiosk
leaves the other working (token, stream, new jobs).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cloudtab.v1 import common_pb2

import envelope
from kiosk.core import reply
from kiosk.core.counters import TakenElsewhere
from kiosk.core.demo import sample_pdf
from kiosk.core.errors import JobError
from kiosk.core.jobs import LocalState
from kiosk.core.printing import PdfFolderPrinter, PrintState
from kiosk.core.service import KioskCore
from tests.fixtures.faults import Customer, PlainFile
from tests.fixtures.inproc import InProcessRelay
from tests.kiosk.test_core_relay import job_in, wait_for


@pytest.fixture
def counters(inproc_relay: InProcessRelay, tmp_path: Path) -> Iterator[tuple[str, KioskCore, KioskCore, Customer]]:
    """A shop with two enrolled, running kiosks (own key stores and printers) and a customer."""
    slug, code = inproc_relay.add_shop("Two Counter Copy")
    cores = []
    for n, make_code in enumerate(
        [lambda: code, lambda: inproc_relay.run(inproc_relay.relay.shops.new_code(slug, "Counter 2"))]
    ):
        core = KioskCore(tmp_path / f"kiosk{n}", printer=PdfFolderPrinter(tmp_path / f"out{n}"), print_timeout=30.0)
        core.enroll(inproc_relay.address, make_code())
        core.start()
        cores.append(core)
    try:
        yield slug, cores[0], cores[1], Customer(inproc_relay.channel())
    finally:
        for core in cores:
            core.stop()


def _pdf(name: str) -> list[PlainFile]:
    return [PlainFile(f"{name}.pdf", "application/pdf", sample_pdf(1))]


def _taken(core: KioskCore, job_id: str, label: str) -> bool:
    return core.job(job_id).taken_by == label


def test_two_counters_share_jobs_and_one_survives_the_others_revocation(
    counters: tuple[str, KioskCore, KioskCore, Customer], inproc_relay: InProcessRelay
) -> None:
    slug, one, two, customer = counters
    assert (one.kiosk_label, two.kiosk_label) == ("Counter 1", "Counter 2")
    assert [k.label for k in customer.shop(slug).kiosk_keys] == ["Counter 1", "Counter 2"]

    # Opened and printed at counter 2: counter 1 shows it taken and will not print it.
    page_key = envelope.generate_private_key()
    first = customer.send(slug, _pdf("first"), all_kiosks=True, reply_key=envelope.public_key_bytes(page_key))
    for core in (one, two):
        wait_for(job_in(core, first.job_id, LocalState.READY), what="both counters opened the job")
    two.open_job(first.job_id)
    wait_for(lambda: _taken(one, first.job_id, "Counter 2"), what="counter 1 sees 'At Counter 2'")
    # Claiming the job keeps what the RECEIVED statement told the customer (the relay keeps only the latest).
    claimed = customer.get(first).kiosk_statement
    assert claimed.kiosk_label == "Counter 2"
    detail = reply.parse(envelope.open_reply(claimed.sealed_detail, page_key, first.job_id))
    assert detail.amount_due is not None and detail.files
    with pytest.raises(TakenElsewhere):
        one.print_job(first.job_id)
    assert two.print_job(first.job_id).state is PrintState.COMPLETED
    two.complete(first.job_id)
    wait_for(job_in(one, first.job_id, LocalState.COMPLETED), what="counter 1 sees it completed")

    # The other way round, and the shopkeeper's override.
    second = customer.send(slug, _pdf("second"), all_kiosks=True)
    wait_for(job_in(one, second.job_id, LocalState.READY), what="counter 1 opened it")
    wait_for(job_in(two, second.job_id, LocalState.READY), what="counter 2 opened it")
    assert one.print_job(second.job_id).state is PrintState.COMPLETED
    wait_for(lambda: _taken(two, second.job_id, "Counter 1"), what="counter 2 sees 'At Counter 1'")
    assert two.print_job(second.job_id, override=True).state is PrintState.COMPLETED
    wait_for(lambda: _taken(one, second.job_id, "Counter 2"), what="the override moved it to counter 2")

    # Sealed to counter 1's key only (the page before key sets): counter 2 leaves it alone.
    single = customer.send(slug, _pdf("single"), public_key=one.shop.public_key)
    wait_for(job_in(one, single.job_id, LocalState.READY), what="counter 1 opened the single-key job")
    failed = wait_for(job_in(two, single.job_id, LocalState.FAILED), what="counter 2 cannot open it")
    assert (failed.taken_by, failed.error) == ("another counter", None)  # "At another counter", not an error
    with pytest.raises(JobError, match="another counter"):
        two.open_job(single.job_id)
    one.open_job(single.job_id)
    wait_for(lambda: _taken(two, single.job_id, "Counter 1"), what="counter 2 sees 'At Counter 1'")
    assert customer.get(single).state != 6  # not rejected (JOB_STATE_REJECTED)

    # Revoke counter 2: counter 1 goes on with its token, stream and new jobs.
    inproc_relay.run(inproc_relay.relay.shops.revoke_kiosk(slug, "Counter 2"))
    wait_for(lambda: two.connection.status == "unauthorized", what="counter 2 is told its token is gone")
    assert [k.label for k in customer.shop(slug).kiosk_keys] == ["Counter 1"]
    after = customer.send(slug, _pdf("after"), all_kiosks=True)
    wait_for(job_in(one, after.job_id, LocalState.READY), what="counter 1 still receives jobs")
    assert one.print_job(after.job_id).state is PrintState.COMPLETED
    one.complete(after.job_id)
    assert customer.get(after).state == 5  # JOB_STATE_COMPLETED


def test_a_job_no_active_counter_can_open_is_declined_and_one_for_another_counter_is_not(
    counters: tuple[str, KioskCore, KioskCore, Customer], inproc_relay: InProcessRelay
) -> None:
    slug, one, two, customer = counters
    # Sealed to counter 2 only (counter 2 is off): counter 1 leaves it to counter 2, even when
    # its key list predates counter 2.
    two.stop()
    waiting = customer.send(slug, _pdf("for two"), public_key=two.shop.public_key)
    left = wait_for(job_in(one, waiting.job_id, LocalState.FAILED), what="counter 1 leaves it to counter 2")
    assert (left.taken_by, left.error) == ("another counter", None)
    assert customer.get(waiting).state == common_pb2.JOB_STATE_QUEUED

    # Counter 2 is removed before it opened the job: nobody can open it now, and counter 1
    # declines it with the fixed code at its next key set read (also every minute while it waits).
    inproc_relay.run(inproc_relay.relay.shops.revoke_kiosk(slug, "Counter 2"))
    one.active_keys(max_age=0.0)
    declined = customer.get(waiting)
    assert (declined.state, declined.reason) == (common_pb2.JOB_STATE_REJECTED, "old-key")
    wait_for(job_in(one, waiting.job_id, LocalState.REJECTED), what="counter 1 shows it declined")

    # A job for a key the shop no longer has, met for the first time: declined at once.
    one.stop()
    orphan = customer.send(slug, _pdf("orphan"), public_key=one.shop.public_key)
    fresh = KioskCore(one.data_dir.parent / "kiosk2", printer=PdfFolderPrinter(one.data_dir.parent / "out2"))
    fresh.enroll(inproc_relay.address, inproc_relay.run(inproc_relay.relay.shops.new_code(slug)))  # replaces all
    fresh.start()
    try:
        wait_for(
            lambda: customer.get(orphan).state == common_pb2.JOB_STATE_REJECTED,
            what="the new kiosk declines the old key's job",
        )
        assert customer.get(orphan).reason == "old-key"
    finally:
        fresh.stop()
