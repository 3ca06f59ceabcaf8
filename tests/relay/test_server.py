"""Server plumbing: health, reflection, graceful shutdown, TLS, metrics, logs."""

from __future__ import annotations

import datetime
import os
import threading
import time
import urllib.request

import grpc
from cloudtab.v1 import customer_jobs_pb2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tests.fixtures.services import free_port
from tests.relay.helpers import JS, create_job, enroll, get_shop


def test_health_and_reflection(relay) -> None:  # type: ignore[no-untyped-def]
    with relay.channel() as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in ("", "cloudtab.v1.ShopJobsService", "cloudtab.v1.CustomerJobsService"):
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        refl = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = refl.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
        names = {s.name for r in replies for s in r.list_services_response.service}
        assert {
            "cloudtab.v1.ShopJobsService",
            "cloudtab.v1.CustomerJobsService",
            "cloudtab.v1.ShopDirectoryService",
        } <= names


def test_not_serving_without_database(relay_factory) -> None:  # type: ignore[no-untyped-def]
    # An unreachable PostgreSQL: the relay runs but health must say NOT_SERVING.
    handle = relay_factory(
        name="nodb",
        database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/x",
        args=("--no-migrate",),
        start=False,
    )
    handle.healthy = lambda: True  # return as soon as the ready file is written
    handle.start()
    with handle.channel() as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING


def test_sigterm_ends_streams_with_unavailable_and_keeps_uploads(relay) -> None:  # type: ignore[no-untyped-def]
    slug, code = relay.add_shop("Shutdown Shop")
    data = os.urandom(600_000)
    with relay.channel() as channel:
        kiosk = enroll(channel, slug, code)
        job = create_job(channel, kiosk, [len(data) + 10])
        job.upload(0, data)
        stream = kiosk.subscribe(timeout=30)
        codes: list = []

        def pump() -> None:
            try:
                for _ in stream:
                    pass
            except grpc.RpcError as exc:
                codes.append(exc.code())

        t = threading.Thread(target=pump, daemon=True)
        t.start()
        time.sleep(0.5)
        assert relay.stop(timeout=15) == 0
        t.join(10)
        assert codes == [grpc.StatusCode.UNAVAILABLE]
    assert "relay shutting down" in relay.log_text()
    relay.start()
    with relay.channel() as channel:
        from tests.relay.helpers import CustomerJob

        again = CustomerJob(channel, job.job, job.token)
        assert again.offset(0).committed_offset == len(data)
        assert again.get().state == JS.JOB_STATE_UPLOADING


def _self_signed(tmp_path):  # type: ignore[no-untyped-def]
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_pem


def test_tls_and_metrics(relay_factory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cert_pem = _self_signed(tmp_path)
    metrics_port = free_port()
    handle = relay_factory(
        name="tls",
        args=("--tls-cert", str(tmp_path / "cert.pem"), "--tls-key", str(tmp_path / "key.pem"),
              "--metrics-listen", f"127.0.0.1:{metrics_port}"),
        start=False,
    )  # fmt: skip
    handle.healthy = lambda: True  # the fixture probes in plaintext; TLS is checked below
    handle.start()
    creds = grpc.ssl_channel_credentials(root_certificates=cert_pem)
    options = [("grpc.ssl_target_name_override", "localhost")]
    slug, code = handle.add_shop("TLS Shop")
    with grpc.secure_channel(handle.address, creds, options=options) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        enroll(channel, slug, code)
        assert get_shop(channel, slug).online is False
    with grpc.insecure_channel(handle.address) as plain:
        try:
            health_pb2_grpc.HealthStub(plain).Check(health_pb2.HealthCheckRequest(), timeout=3)
            raise AssertionError("plaintext must not work on a TLS relay")
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.UNAVAILABLE
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    assert 'cloudtab_relay_rpcs_total{code="OK",method="Enroll"} 1.0' in text
    assert 'cloudtab_relay_rpc_seconds_bucket{le="+Inf",method="Enroll"} 1.0' in text
    assert 'cloudtab_relay_jobs{state="queued"} 0.0' in text  # values: tests/relay/test_metrics.py


def test_online_and_log_lines(relay) -> None:  # type: ignore[no-untyped-def]
    slug, code = relay.add_shop("Online Shop")
    with relay.channel() as channel:
        kiosk = enroll(channel, slug, code)
        assert get_shop(channel, slug).online is False
        stream = kiosk.subscribe(timeout=30)

        def first_item() -> None:
            try:
                next(iter(stream), None)
            except grpc.RpcError:
                pass

        threading.Thread(target=first_item, daemon=True).start()
        deadline = time.monotonic() + 5
        while not get_shop(channel, slug).online and time.monotonic() < deadline:
            time.sleep(0.05)
        assert get_shop(channel, slug).online
        stream.cancel()
        deadline = time.monotonic() + 5
        while get_shop(channel, slug).online and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not get_shop(channel, slug).online
        job = create_job(channel, kiosk, [1])
        bad = customer_jobs_pb2.GetJobRequest(job_id=job.job_id)
        try:
            job.stub.GetJob(bad, timeout=5)
        except grpc.RpcError:
            pass
    deadline = time.monotonic() + 3  # the status can reach the client before the log line is written
    while "method=GetJob code=UNAUTHENTICATED" not in relay.log_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = relay.log_text()
    assert "rpc method=Enroll code=OK" in log and f"shop={slug}" in log
    assert "rpc method=GetJob code=UNAUTHENTICATED" in log and f"job={job.job_id}" in log
