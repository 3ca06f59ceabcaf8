"""Prometheus metrics of the relay, served on a separate port (``--metrics-listen``).

RPC counts and latencies (by method and status), open subscriptions, committed
ciphertext bytes and jobs by state. Labels never carry ids, tokens or sizes.
"""

from __future__ import annotations

import logging

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from relay_grpc.config import split_host_port

log = logging.getLogger(__name__)

RPCS = Counter("cloudtab_relay_rpcs_total", "RPCs handled", ["method", "code"])
RPC_SECONDS = Histogram(
    "cloudtab_relay_rpc_seconds",
    "RPC duration (streams: whole stream)",
    ["method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600, 3600),
)
SUBSCRIPTIONS = Gauge("cloudtab_relay_subscriptions", "Open SubscribeJobs and WatchJob streams", ["kind"])
STORED_BYTES = Gauge("cloudtab_relay_stored_bytes", "Committed ciphertext bytes of live and recent jobs")
JOBS = Gauge("cloudtab_relay_jobs", "Jobs by state", ["state"])
UPLOADED_BYTES = Counter("cloudtab_relay_uploaded_bytes_total", "Ciphertext bytes received")
DOWNLOADED_BYTES = Counter("cloudtab_relay_downloaded_bytes_total", "Ciphertext bytes sent")

_STATES = ("uploading", "queued", "received", "printing", "completed", "rejected", "cancelled", "expired")


def set_job_counts(counts: dict[str, int]) -> None:
    """Set the per-state job gauge (states not in ``counts`` become 0)."""
    for state in _STATES:
        JOBS.labels(state=state).set(counts.get(state, 0))


def start_metrics_server(listen: str) -> int:
    """Serve /metrics on ``HOST:PORT`` (port 0: any); returns the port.

    Raises:
        ValueError: bad HOST:PORT.
        OSError: the port cannot be bound.
    """
    host, port = split_host_port(listen)
    server, _thread = start_http_server(port, addr=host)
    bound = int(server.server_address[1])
    log.info("metrics on %s:%d", host, bound)
    return bound
