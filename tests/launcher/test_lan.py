"""The local CA of `cloudtab up --lan`: created once, name-constrained, server certificate
reissued when names change, owner certificates checked; verified with openssl."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography import x509

from launcher.lan import LanError, check_owner_tls, ensure_local_tls


def _verify(ca: Path, cert: Path, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["openssl", "verify", "-CAfile", str(ca), "-x509_strict", "-verify_hostname", name, str(cert)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_ca_made_once_and_server_certificate_follows_the_names(tmp_path: Path) -> None:
    tls = ensure_local_tls(tmp_path / "tls", "192.168.1.20", ["shop.test"])
    assert tls.ca is not None
    ca_bytes = tls.ca.read_bytes()
    assert (tmp_path / "tls" / "cloudtab-local-ca.key").stat().st_mode & 0o777 == 0o600
    assert _verify(tls.ca, tls.cert, "shop.test").returncode == 0
    ok_ip = subprocess.run(
        ["openssl", "verify", "-CAfile", str(tls.ca), "-verify_ip", "192.168.1.20", str(tls.cert)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert ok_ip.returncode == 0, ok_ip.stdout + ok_ip.stderr
    first_leaf = tls.cert.read_bytes()

    again = ensure_local_tls(tmp_path / "tls", "192.168.1.20", ["shop.test"])
    assert again.ca is not None and again.ca.read_bytes() == ca_bytes and again.cert.read_bytes() == first_leaf

    moved = ensure_local_tls(tmp_path / "tls", "10.0.0.7", ["shop.test"])
    assert moved.ca is not None and moved.ca.read_bytes() == ca_bytes  # phones keep trusting the same CA
    leaf = x509.load_pem_x509_certificate(moved.cert.read_bytes())
    ips = {
        str(ip)
        for ip in leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.IPAddress
        )
    }
    assert "10.0.0.7" in ips and "192.168.1.20" not in ips


def test_ca_cannot_vouch_for_public_names(tmp_path: Path) -> None:
    tls = ensure_local_tls(tmp_path / "tls", "192.168.1.20")
    assert tls.ca is not None
    ca = x509.load_pem_x509_certificate(tls.ca.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.NameConstraints).critical
    with pytest.raises(LanError, match="may not vouch for print.example.com"):
        ensure_local_tls(tmp_path / "tls", "192.168.1.20", ["print.example.com"])


def test_owner_certificate_checked(tmp_path: Path) -> None:
    mine = ensure_local_tls(tmp_path / "a", "192.168.1.20")
    other = ensure_local_tls(tmp_path / "b", "192.168.1.20")
    assert check_owner_tls(mine.cert, mine.key).ca is None
    with pytest.raises(LanError, match="does not belong to"):
        check_owner_tls(mine.cert, other.key)
    with pytest.raises(LanError, match="--tls-cert .*missing.pem"):
        check_owner_tls(tmp_path / "missing.pem", mine.key)


def test_wildcard_listen_is_not_put_in_the_qr(tmp_path: Path) -> None:
    from launcher.cli import build_parser, plan_bridge

    args = build_parser().parse_args(["up", "--bridge-listen", "0.0.0.0:8080"])
    bridge = plan_bridge(args, tmp_path)
    assert (bridge.listen, bridge.public_url) == ("0.0.0.0:8080", "http://127.0.0.1:8080")
    lan = plan_bridge(
        build_parser().parse_args(["up", "--lan", "--lan-address", "192.168.1.20", "--bridge-listen", "0.0.0.0:8443"]),
        tmp_path,
    )
    assert (lan.listen, lan.public_url) == ("0.0.0.0:8443", "https://192.168.1.20:8443")
    assert lan.tls is not None and lan.tls.ca is not None
