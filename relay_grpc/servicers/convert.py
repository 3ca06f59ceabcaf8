"""Domain values -> protobuf messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from cloudtab.v1 import common_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from relay_grpc.capabilities import Capabilities, SheetPrice
from relay_grpc.views import EventView, HeartbeatView, JobState, JobView, ShopProfile


def timestamp(seconds: float | None) -> Timestamp | None:
    """UNIX seconds -> Timestamp (None stays unset)."""
    if seconds is None:
        return None
    ts = Timestamp()
    whole = int(seconds)
    ts.seconds = whole
    ts.nanos = round((seconds - whole) * 1e9) % 1_000_000_000
    return ts


def state_to_proto(state: JobState) -> int:
    """Domain state -> common_pb2.JobState value."""
    return int(common_pb2.JobState.Value("JOB_STATE_" + state.name))


def state_from_proto(value: int) -> JobState | None:
    """common_pb2.JobState value -> domain state (None for UNSPECIFIED/unknown)."""
    try:
        name = common_pb2.JobState.Name(value)  # type: ignore[arg-type]
    except ValueError:
        return None
    return JobState.__members__.get(name.removeprefix("JOB_STATE_"))


def job_to_proto(job: JobView) -> common_pb2.Job:
    """A Job message; ``sealed_manifest`` only if the view carries it."""
    return common_pb2.Job(
        job_id=job.job_id,
        job_code=job.job_code,
        state=state_to_proto(job.state),  # type: ignore[arg-type]
        reason=job.reason,
        files=[common_pb2.JobFile(index=f.index, size=f.size, committed_size=f.committed_size) for f in job.files],
        key_fingerprint=job.key_fingerprint,
        create_time=timestamp(job.created_at),
        submit_time=timestamp(job.submitted_at),
        expire_time=timestamp(job.expires_at),
        update_time=timestamp(job.updated_at),
        sealed_manifest=job.sealed_manifest or b"",
        kiosk_statement=common_pb2.KioskStatement.FromString(job.kiosk_statement) if job.kiosk_statement else None,
    )


def event_to_proto(event: EventView) -> common_pb2.JobEvent:
    """A JobEvent message."""
    return common_pb2.JobEvent(
        sequence=event.sequence, job=job_to_proto(event.job), event_time=timestamp(event.event_time)
    )


M = TypeVar("M")


V = TypeVar("V", EventView, HeartbeatView)


def encoded_once(event: V, kind: str, build: Callable[[V], M]) -> M:
    """The message of ``kind`` for ``event`` (or a shared heartbeat), built once and shared
    by every stream it goes to (protobuf messages are not changed after they are built)."""
    message = event.encoded.get(kind)
    if message is None:
        message = event.encoded[kind] = build(event)
    return message  # type: ignore[return-value]


def heartbeat_to_proto(beat: HeartbeatView) -> common_pb2.Heartbeat:
    """A Heartbeat message."""
    return common_pb2.Heartbeat(server_time=timestamp(beat.server_time), latest_sequence=beat.latest_sequence)


def shop_to_proto(shop: ShopProfile) -> common_pb2.Shop:
    """The public Shop message."""
    limits = shop.limits
    return common_pb2.Shop(
        slug=shop.slug,
        display_name=shop.display_name,
        public_key=shop.public_key,
        key_fingerprint=shop.key_fingerprint,
        key_fingerprint_display=shop.key_fingerprint_display,
        limits=common_pb2.UploadLimits(
            max_file_bytes=limits.max_file_bytes,
            max_job_bytes=limits.max_job_bytes,
            max_files_per_job=limits.max_files_per_job,
            max_chunk_bytes=limits.max_chunk_bytes,
        ),
        accepted_media_types=list(shop.accepted_media_types),
        retention_seconds=shop.retention_seconds,
        online=shop.online,
        min_kiosk_version=shop.min_kiosk_version,
        capabilities=capabilities_to_proto(shop.capabilities) if shop.capabilities else None,
        kiosk_keys=[
            common_pb2.KioskKey(
                label=k.label, public_key=k.public_key, signing_key=k.signing_key, key_fingerprint=k.key_fingerprint
            )
            for k in shop.kiosk_keys
        ],
    )


def capabilities_to_proto(caps: Capabilities) -> common_pb2.ShopCapabilities:
    """The ShopCapabilities message."""
    return common_pb2.ShopCapabilities(
        media=list(caps.media),
        color=list(caps.color),
        sides=list(caps.sides),
        pages_per_sheet=list(caps.pages_per_sheet),
        currency=caps.currency,
        prices=[
            common_pb2.SheetPrice(media=p.media, color=p.color, duplex=p.duplex, amount=p.amount) for p in caps.prices
        ],
        accepted_media_types=list(caps.accepted_media_types),
    )


def capabilities_from_proto(msg: common_pb2.ShopCapabilities) -> Capabilities:
    """Domain capabilities from a request (not validated yet)."""
    return Capabilities(
        media=tuple(msg.media),
        color=tuple(msg.color),
        sides=tuple(msg.sides),
        pages_per_sheet=tuple(msg.pages_per_sheet),
        currency=msg.currency,
        prices=tuple(SheetPrice(p.media, p.color, p.duplex, p.amount) for p in msg.prices),
        accepted_media_types=tuple(msg.accepted_media_types),
    )
