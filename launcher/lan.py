"""`cloudtab up --lan`: the machine's LAN address and a certificate phones can trust.

A small local certificate authority is created once in DATA_DIR/tls (its key never
leaves that folder, mode 0600). It is name-constrained to local names and private
addresses, so even a leaked CA key cannot impersonate a public web site to a phone
that trusts it. The server certificate is (re)issued from it whenever the names or
addresses change or it nears expiry.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import os
import socket
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "cloudtab-local-ca.crt"
CA_KEY_FILE = "cloudtab-local-ca.key"
SERVER_FILE = "server.crt"
SERVER_KEY_FILE = "server.key"
CA_DAYS = 3650
SERVER_DAYS = 397  # browsers' ceiling for server certificates
RENEW_DAYS = 30
# Names and addresses the local CA may vouch for (RFC 5280 name constraints).
LOCAL_DNS_SUFFIXES = ("local", "localhost", "lan", "home.arpa", "internal", "test")
PRIVATE_NETS = (
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
    "::1/128",
)


class LanError(Exception):
    """--lan cannot work as asked (no LAN address, unreadable certificate)."""


@dataclasses.dataclass(frozen=True)
class ServerTls:
    """What the bridge serves with, and the CA to tell the owner about (None: owner's certificate)."""

    cert: Path
    key: Path
    ca: Path | None


def lan_address() -> str:
    """The IPv4 address this machine uses towards its default route (no packet is sent).

    Raises:
        LanError: no non-loopback address.
    """
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.254.254.254", 9))  # UDP connect sends nothing
            address = str(probe.getsockname()[0])
    except OSError:
        address = ""
    if not address or ipaddress.ip_address(address).is_loopback or address == "0.0.0.0":
        try:
            address = socket.gethostbyname(socket.gethostname())
        except OSError:
            address = ""
    if not address or ipaddress.ip_address(address).is_loopback:
        raise LanError("no LAN address found (is the machine on a network?); pass --lan-address ADDRESS")
    return address


def server_names(address: str, extra_names: Sequence[str]) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) the server certificate covers."""
    host = socket.gethostname().split(".")[0]
    dns = [*extra_names, host, f"{host}.local", "localhost"]
    ips = [address, "127.0.0.1"]
    return list(dict.fromkeys(n.lower() for n in dns if n)), list(dict.fromkeys(ips))


def ensure_local_tls(tls_dir: Path, address: str, extra_names: Sequence[str] = ()) -> ServerTls:
    """The local CA (created on first use) and a current server certificate for `address`."""
    tls_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(tls_dir, 0o700)
    ca_path, ca_key_path = tls_dir / CA_FILE, tls_dir / CA_KEY_FILE
    dns, ips = server_names(address, extra_names)
    if not (ca_path.exists() and ca_key_path.exists()):
        _create_ca(ca_path, ca_key_path, extra_names, ips)
    ca_cert = x509.load_pem_x509_certificate(ca_path.read_bytes())
    outside = _outside_constraints(ca_cert, dns, ips)
    if outside:
        raise LanError(
            f"the local CA in {tls_dir} may not vouch for {', '.join(outside)}; remove that folder "
            "to create a new CA (phones must then trust the new one)"
        )
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise LanError(f"{ca_key_path}: not the CA key cloudtab created; remove {tls_dir} to start over")
    cert_path, key_path = tls_dir / SERVER_FILE, tls_dir / SERVER_KEY_FILE
    if not _server_current(cert_path, key_path, ca_cert, dns, ips):
        _issue_server(cert_path, key_path, ca_cert, ca_key, dns, ips)
    return ServerTls(cert=cert_path, key=key_path, ca=ca_path)


def check_owner_tls(cert: Path, key: Path) -> ServerTls:
    """The owner's certificate and key, checked readable and matching.

    Raises:
        LanError: a file is missing or unreadable, or they do not belong together.
    """
    try:
        leaf = x509.load_pem_x509_certificates(cert.read_bytes())[0]
    except (OSError, ValueError) as exc:
        raise LanError(f"--tls-cert {cert}: cannot read a PEM certificate ({exc})") from None
    try:
        private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise LanError(f"--tls-key {key}: cannot read an unencrypted PEM private key ({exc})") from None
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if leaf.public_key().public_bytes(serialization.Encoding.DER, spki) != private.public_key().public_bytes(
        serialization.Encoding.DER, spki
    ):
        raise LanError(f"--tls-key {key} does not belong to --tls-cert {cert}")
    return ServerTls(cert=cert, key=key, ca=None)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _write_private(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    tmp.replace(path)


def _outside_constraints(ca_cert: x509.Certificate, dns: Sequence[str], ips: Sequence[str]) -> list[str]:
    try:
        constraints = ca_cert.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return []
    subtrees = constraints.permitted_subtrees or []
    suffixes = [t.value.lower() for t in subtrees if isinstance(t, x509.DNSName)]
    nets = [
        t.value
        for t in subtrees
        if isinstance(t, x509.IPAddress) and isinstance(t.value, ipaddress.IPv4Network | ipaddress.IPv6Network)
    ]
    bad = [n for n in dns if not any(n == s or n.endswith("." + s) for s in suffixes)]
    return bad + [ip for ip in ips if not any(ipaddress.ip_address(ip) in net for net in nets)]


def _create_ca(ca_path: Path, ca_key_path: Path, extra_names: Sequence[str], ips: Sequence[str]) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    host = socket.gethostname().split(".")[0]
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CloudTab"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"CloudTab local CA ({host})"),
        ]
    )
    nets = [ipaddress.ip_network(n) for n in PRIVATE_NETS]
    extra = [ipaddress.ip_network(ip) for ip in ips if not any(ipaddress.ip_address(ip) in n for n in nets)]
    suffixes = dict.fromkeys(s.lower() for s in (*LOCAL_DNS_SUFFIXES, host, *extra_names))
    permitted: list[x509.GeneralName] = [x509.DNSName(s) for s in suffixes]
    permitted += [x509.IPAddress(n) for n in (*nets, *extra)]
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(ca_key_path, key)
    ca_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _server_current(
    cert_path: Path, key_path: Path, ca_cert: x509.Certificate, dns: Sequence[str], ips: Sequence[str]
) -> bool:
    if not (cert_path.exists() and key_path.exists()):
        return False
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return False
    have_dns = set(sans.get_values_for_type(x509.DNSName))
    have_ips = {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)}
    return (
        cert.issuer == ca_cert.subject
        and have_dns == set(dns)
        and have_ips == set(ips)
        and cert.not_valid_after_utc - _now() > datetime.timedelta(days=RENEW_DAYS)
    )


def _issue_server(
    cert_path: Path,
    key_path: Path,
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    dns: Sequence[str],
    ips: Sequence[str],
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in dns]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns[0] if dns else ips[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(key_path, key)
    cert_path.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(serialization.Encoding.PEM)
    )
