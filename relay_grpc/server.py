"""The gRPC server: build, start, stop.

``build_server(config)`` binds (port 0 in tests) and returns
``(server, port, handle)``; ``await handle.start()`` starts serving and
``await handle.stop()`` shuts down gracefully: health goes NOT_SERVING, open
streams end with UNAVAILABLE, in-flight RPCs get ``shutdown_grace_seconds``.
Committed upload chunks are durable, so nothing committed is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging

import grpc
from cloudtab.v1 import (
    customer_jobs_pb2,
    customer_jobs_pb2_grpc,
    shop_directory_pb2,
    shop_directory_pb2_grpc,
    shop_jobs_pb2,
    shop_jobs_pb2_grpc,
)
from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from relay_grpc.app import Relay, open_relay
from relay_grpc.config import MIB, RelayConfig
from relay_grpc.interceptors import Instrumented
from relay_grpc.servicers.customer_jobs import CustomerJobsServicer
from relay_grpc.servicers.shop_directory import ShopDirectoryServicer
from relay_grpc.servicers.shop_jobs import ShopJobsServicer

log = logging.getLogger(__name__)

SERVICE_NAMES = (
    shop_directory_pb2.DESCRIPTOR.services_by_name["ShopDirectoryService"].full_name,
    customer_jobs_pb2.DESCRIPTOR.services_by_name["CustomerJobsService"].full_name,
    shop_jobs_pb2.DESCRIPTOR.services_by_name["ShopJobsService"].full_name,
)


def server_options(config: RelayConfig) -> list[tuple[str, int]]:
    """Channel options: message sizes, and keepalive that keeps idle streams alive
    behind NATs (server pings every 60 s; clients may ping every 10 s)."""
    return [
        ("grpc.max_receive_message_length", config.max_receive_message_bytes),
        ("grpc.max_send_message_length", config.download_chunk_bytes + 1 * MIB),
        ("grpc.keepalive_time_ms", 60_000),
        ("grpc.keepalive_timeout_ms", 20_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
        ("grpc.http2.min_ping_interval_without_data_ms", 60_000),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.http2.max_ping_strikes", 0),
        ("grpc.so_reuseport", 1 if config.reuse_port else 0),
    ]


@dataclasses.dataclass
class RelayServer:
    """A built relay server: start/stop it, ``port`` is the bound port."""

    server: aio.Server
    port: int
    relay: Relay
    health: health.aio.HealthServicer
    metrics_port: int | None = None
    _health_task: asyncio.Task[None] | None = None
    _stopping: bool = False

    async def start(self) -> None:
        """Start the broker, reaper and server; health turns SERVING once the database
        and blob store answer."""
        await self.relay.start()
        await self.server.start()
        await self._probe()
        self._health_task = asyncio.create_task(self._health_loop(), name="health")
        log.info("relay listening on port %d", self.port)

    async def stop(self, grace: float | None = None) -> None:
        """Graceful shutdown (idempotent)."""
        if self._stopping:
            return
        self._stopping = True
        grace = self.relay.config.shutdown_grace_seconds if grace is None else grace
        log.info("relay shutting down (grace %.1f s)", grace)
        await self.health.enter_graceful_shutdown()
        if self._health_task is not None:
            self._health_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._health_task
        await self.relay.broker.close()  # streams end with UNAVAILABLE
        await self.server.stop(grace)
        await self.relay.close()

    async def _probe(self) -> bool:
        try:
            await self.relay.check()
        except Exception as exc:  # noqa: BLE001 - any failure means not serving
            log.warning("health check failed: %s", type(exc).__name__)
            ok = False
        else:
            ok = True
        status = health_pb2.HealthCheckResponse.SERVING if ok else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in ("", *SERVICE_NAMES):
            await self.health.set(name, status)
        return ok

    async def _health_loop(self) -> None:
        while not self._stopping:
            ok = await self._probe()
            await asyncio.sleep(5.0 if ok else 1.0)


async def build_server(config: RelayConfig, relay: Relay | None = None) -> tuple[aio.Server, int, RelayServer]:
    """Build the relay and its server bound to ``config.listen`` (port 0: any free port).

    Raises:
        ValueError: a bad listen address, database URL or TLS setting.
        RuntimeError: the address cannot be bound.
    """
    from relay_grpc.config import split_host_port

    relay = relay or open_relay(config)
    server = aio.server(options=server_options(config), maximum_concurrent_rpcs=None)
    # Logging, metrics, error mapping, boundary checks and auth: wrapped around each
    # CloudTab method once here (relay_grpc.interceptors), not run as an interceptor chain per RPC.
    services = Instrumented(server, relay.shops, config.max_uploads_per_peer)
    services.add_service(
        shop_directory_pb2_grpc.add_ShopDirectoryServiceServicer_to_server, ShopDirectoryServicer(relay.shops)
    )
    services.add_service(customer_jobs_pb2_grpc.add_CustomerJobsServiceServicer_to_server, CustomerJobsServicer(relay))
    services.add_service(shop_jobs_pb2_grpc.add_ShopJobsServiceServicer_to_server, ShopJobsServicer(relay))
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    reflection.enable_server_reflection((*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    host, port = split_host_port(config.listen)
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if config.tls_cert or config.tls_key:
        if not (config.tls_cert and config.tls_key):
            raise ValueError("--tls-cert and --tls-key go together")
        creds = grpc.ssl_server_credentials([(config.tls_key.read_bytes(), config.tls_cert.read_bytes())])
        bound = server.add_secure_port(address, creds)
    else:
        bound = server.add_insecure_port(address)
    if not bound:
        raise RuntimeError(f"cannot bind {address}")
    handle = RelayServer(server=server, port=bound, relay=relay, health=health_servicer)
    if config.metrics_listen:
        from relay_grpc.metrics import start_metrics_server

        handle.metrics_port = start_metrics_server(config.metrics_listen)
    return server, bound, handle
