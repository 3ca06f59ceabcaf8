"""Ciphertext upload (streamed to the relay), resume offsets, and live job events.

``PUT /api/jobs/<id>/files/<i>?offset=N`` carries one chunk of ciphertext as the raw
body. The route cuts ``request.stream`` into pieces and feeds them to the relay's
UploadFile as gRPC's flow control asks for them (served as ASGI, the body has been read
on the event loop first, so a slow client never holds this thread).

Live status: ``GET /api/jobs/<id>/events?after=N`` is a ``text/event-stream``. Served
as ASGI, :mod:`web_bridge.live_status` answers it on the event loop; this thread-held
route serves WSGI hosts (``create_app()`` alone: the Flask-client tests and the fake relays
of tests/bridge, which are not gRPC servers; the browser tests serve ASGI). The page
reads it with ``fetch()`` (so the token goes in the Authorization header: EventSource
cannot set headers, and a token in the URL would end up in logs), and falls back to
polling ``GET /api/jobs/<id>`` when streaming fails.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from cloudtab.v1 import customer_jobs_pb2
from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import ClientDisconnected

from web_bridge import validate
from web_bridge.errors import ApiError, describe_relay_error
from web_bridge.relay_client import RelayCallError, get_client, iterate_watch
from web_bridge.serialize import TERMINAL_STATES, job_to_dict, sse_message
from web_bridge.stream_slots import slots

logger = logging.getLogger(__name__)

bp = Blueprint("transfer", __name__, url_prefix="/api")


@dataclass
class _BodyReader:
    """Reads exactly ``length`` bytes in pieces; notes a short or broken body."""

    stream: IO[bytes]
    length: int
    piece: int
    received: int = 0
    incomplete: bool = False

    def pieces(self) -> Iterator[bytes]:
        while self.received < self.length:
            want = min(self.piece, self.length - self.received)
            buffer = bytearray()
            try:
                while len(buffer) < want:
                    data = self.stream.read(want - len(buffer))
                    if not data:
                        break
                    buffer += data
            except (ClientDisconnected, OSError):
                self.incomplete = True
            if buffer:
                self.received += len(buffer)
                yield bytes(buffer)
            if len(buffer) < want:
                self.incomplete = True
                return


def _chunk_length() -> int:
    limit = int(current_app.config["MAX_UPLOAD_CHUNK_BYTES"])
    length = request.content_length
    if length is None:
        raise ApiError(411, "length_required", "The upload needs a Content-Length.")
    if length > limit:
        raise ApiError(
            413,
            "chunk_too_large",
            f"An upload chunk may hold at most {limit} bytes.",
            limit=limit,
        )
    if length == 0:
        raise ApiError(400, "bad_request", "The upload chunk is empty.")
    return length


@bp.put("/jobs/<job_id>/files/<int:index>")
def upload_chunk(job_id: str, index: int) -> Response:
    """Append the body to file ``index`` at ``?offset=`` (the relay's committed size).

    Raises: ApiError 400/401/404/409 (with ``committed_offset``)/411/413,
    RelayCallError (503 try again).
    """
    job_id = validate.job_id(job_id)
    index = validate.file_index(index)
    token = validate.bearer_token()
    offset = validate.non_negative_int(request.args.get("offset"), "offset")
    length = _chunk_length()
    request.max_content_length = length
    reader = _BodyReader(
        stream=request.stream,
        length=length,
        piece=int(current_app.config["UPLOAD_PIECE_BYTES"]),
    )
    result = get_client().upload_file(token, job_id, index, offset, reader.pieces())
    if reader.incomplete:
        raise ApiError(
            400,
            "body_incomplete",
            "The upload was interrupted; it resumes from here.",
            committed_offset=result.committed_offset,
        )
    return jsonify({"committed_offset": result.committed_offset, "complete": result.complete})


@bp.get("/jobs/<job_id>/files/<int:index>/offset")
def upload_offset(job_id: str, index: int) -> Response:
    """Where the upload of file ``index`` resumes. Raises: ApiError, RelayCallError."""
    result = get_client().get_upload_offset(
        validate.bearer_token(), validate.job_id(job_id), validate.file_index(index)
    )
    return jsonify({"committed_offset": result.committed_offset, "size": result.size})


@bp.get("/jobs/<job_id>/events")
def job_events(job_id: str) -> Response:
    """Server-sent events of the job's state: ``job`` events, comments as heartbeats.

    The response ends after a terminal state or after SSE_MAX_SECONDS; the page then
    reconnects with ``?after=<last id>``. Raises (before streaming): ApiError,
    RelayCallError.
    """
    job_id = validate.job_id(job_id)
    token = validate.bearer_token()
    after = validate.non_negative_int(request.args.get("after", "0"), "after")
    release = slots().acquire(job_id, request.remote_addr or "")
    if release is None:
        raise ApiError(
            429,
            "too_many_streams",
            "Too many live views of this job are open; the page checks every few seconds instead.",
        )
    try:
        stream = get_client().watch_job(token, job_id, after, float(current_app.config["SSE_MAX_SECONDS"]))
        messages = iterate_watch(stream)
        try:
            first = next(messages, None)
        except RelayCallError:
            stream.cancel()
            raise
    except BaseException:
        release()
        raise

    def generate() -> Iterator[str]:
        try:
            yield "retry: 2000\n\n"
            pending = [first] if first is not None else []
            for message in _chain(pending, messages):
                if message.HasField("event"):
                    job = job_to_dict(message.event.job)
                    yield sse_message("job", {"job": job}, message.event.sequence)
                    if job["state"] in TERMINAL_STATES:
                        return
                else:
                    yield ": heartbeat\n\n"
        except RelayCallError as exc:
            error = describe_relay_error(exc)
            yield sse_message("error", {"error": error.error, "message": error.message})
        finally:
            stream.cancel()

    response = Response(generate(), mimetype="text/event-stream")
    response.call_on_close(release)  # also when the client leaves before the first byte
    response.call_on_close(stream.cancel)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def _chain(
    first: list[customer_jobs_pb2.WatchJobResponse],
    rest: Iterator[customer_jobs_pb2.WatchJobResponse],
) -> Iterator[customer_jobs_pb2.WatchJobResponse]:
    yield from first
    yield from rest
