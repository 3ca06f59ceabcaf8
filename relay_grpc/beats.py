"""Heartbeats shared by every stream that sends the same one.

A heartbeat carries the relay clock and the stream's cursor, so all streams of one
scope that are caught up send the same message. ``BeatBook`` hands out one
``HeartbeatView`` per (scope, sequence, round); its ``encoded`` dict then keeps the
wire message built once for all of them. A round is a ticker pass (shop streams) or
a slot of a heartbeat grid (job streams). No grpc here.
"""

from __future__ import annotations

from relay_grpc.views import HeartbeatView


class BeatBook:
    """Per-round cache of heartbeats; a new round forgets the previous one."""

    __slots__ = ("_beats", "_round")

    def __init__(self) -> None:
        self._round: object = None
        self._beats: dict[tuple[str, int], HeartbeatView] = {}

    def beat(self, round_id: object, scope: str, sequence: int, now: float) -> HeartbeatView:
        """The heartbeat of ``scope`` at ``sequence`` in ``round_id`` (built by the first
        stream that asks in that round, with its ``now``)."""
        if round_id != self._round:
            self._round = round_id
            self._beats = {}
        key = (scope, sequence)
        beat = self._beats.get(key)
        if beat is None:
            beat = self._beats[key] = HeartbeatView(server_time=now, latest_sequence=sequence)
        return beat
