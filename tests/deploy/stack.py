"""The production shape on 127.0.0.1, built from the files in deploy/ as an operator would.

* :func:`make_pki`: a test CA and one server certificate for localhost, shop.test and
  127.0.0.1 (used by nginx and by the relays).
* :func:`unit_command`: the ExecStart of a unit in deploy/systemd, with the install path
  and systemd specifiers (%i, %d) filled in; nothing else changed.
* :class:`Nginx`: a private nginx running deploy/nginx/cloudtab.conf, with only the
  site values the file names as such replaced (ports, names, certificate folder).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.fixtures.services import service_missing, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NGINX_CONF = DEPLOY / "nginx" / "cloudtab.conf"
VENV_BIN = Path(sys.executable).parent
BRIDGE_NAME = "shop.test"  # the phones' name for the upload page (Chromium maps it)
RELAY_NAME = "localhost"  # kiosks and the bridge reach the relays by this name


def make_pki(folder: Path) -> dict[str, Path]:
    """ca.pem, cert.pem (leaf + CA), key.pem in `folder`; names localhost, shop.test, 127.0.0.1."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CloudTab test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.DNSName(BRIDGE_NAME),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = {"ca": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    paths["ca"].write_bytes(ca.public_bytes(pem))
    paths["cert"].write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    paths["key"].write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


def unit_command(
    unit: str, instance: str = "", credentials: Path | None = None, replace: dict[str, str] | None = None
) -> list[str]:
    """The ExecStart of deploy/systemd/`unit` as argv, run from this venv.

    `replace` changes named literal values (e.g. the bridge's listen address); each must
    occur in the line.
    """
    text = (DEPLOY / "systemd" / unit).read_text()
    text = re.sub(r"\\\n\s*", " ", text)
    (line,) = [row for row in text.splitlines() if row.startswith("ExecStart=")]
    line = line.removeprefix("ExecStart=").replace("/opt/cloudtab/.venv/bin/", f"{VENV_BIN}/")
    line = line.replace("%i", instance)
    if credentials is not None:
        line = line.replace("%d", str(credentials))
    for old, new in (replace or {}).items():
        assert old in line, f"{old!r} not in {unit}'s ExecStart"
        line = line.replace(old, new)
    assert "%" not in line, line
    return shlex.split(line)


class Nginx:
    """nginx -p DIR -c DIR/nginx.conf with deploy/nginx/cloudtab.conf included."""

    def __init__(
        self,
        port: int,
        tls: dict[str, Path],
        bridge_port: int,
        relay_ports: tuple[int, int],
        extra: dict[str, str] | None = None,
    ) -> None:
        """`extra`: further literal replacements (a test that shortens a timeout)."""
        binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
        if binary is None:
            service_missing("nginx (apt: nginx-light)")
        self.binary = binary
        self.port = port
        # Workers run as nobody: a folder they can enter (pytest's tmp_path is 0700).
        self.dir = Path(tempfile.mkdtemp(prefix="cloudtab-nginx-"))
        self.dir.chmod(0o755)
        certs = self.dir / "tls"
        certs.mkdir()
        shutil.copy(tls["cert"], certs / "fullchain.pem")
        shutil.copy(tls["key"], certs / "privkey.pem")
        shutil.copy(tls["ca"], certs / "relay-ca.pem")
        site = NGINX_CONF.read_text()
        replacements = [
            ("    listen [::]:443 ssl http2;\n", "", 2),
            ("listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl http2;", 2),
            ("server_name print.example.com;", f"server_name {BRIDGE_NAME};", 1),
            ("server_name relay.example.com;", f"server_name {RELAY_NAME};", 1),
            ("/etc/cloudtab/tls/", f"{certs}/", 6),
            ("server 127.0.0.1:8080;", f"server 127.0.0.1:{bridge_port};", 1),
            ("server 127.0.0.1:50051 ", f"server 127.0.0.1:{relay_ports[0]} ", 1),
            ("server 127.0.0.1:50052 ", f"server 127.0.0.1:{relay_ports[1]} ", 1),
            ("grpc_ssl_name relay.internal;", f"grpc_ssl_name {RELAY_NAME};", 1),
        ]
        replacements += [(old, new, 1) for old, new in (extra or {}).items()]
        for old, new, count in replacements:
            assert site.count(old) == count, f"{old!r} occurs {site.count(old)} times in {NGINX_CONF}"
            site = site.replace(old, new)
        (self.dir / "cloudtab.conf").write_text(site)
        temp = self.dir / "temp"
        temp.mkdir()
        temp.chmod(0o777)
        (self.dir / "nginx.conf").write_text(f"""
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log info;
events {{ worker_connections 512; }}
http {{
    access_log {self.dir}/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {self.dir}/cloudtab.conf;
}}
""")
        self.process: subprocess.Popen[bytes] | None = None
        self._kept = ("", "")

    def _cmd(self, *extra: str) -> list[str]:
        return [self.binary, "-p", f"{self.dir}/", "-c", str(self.dir / "nginx.conf"), *extra]

    def start(self) -> None:
        """Check the configuration, then run nginx in the foreground.

        Raises:
            RuntimeError: the configuration is refused or nginx does not listen.
        """
        check = subprocess.run(self._cmd("-t"), capture_output=True, text=True, timeout=30, check=False)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t refused the configuration:\n{check.stderr}")
        with open(self.dir / "stderr.log", "wb") as stderr:
            self.process = subprocess.Popen(
                self._cmd("-g", "daemon off;"), stdout=subprocess.DEVNULL, stderr=stderr, stdin=subprocess.DEVNULL
            )
        if not wait_for_port(self.port, timeout=20):
            raise RuntimeError(f"nginx did not listen:\n{self.error_log()}")

    def error_log(self) -> str:
        try:
            return (self.dir / "error.log").read_text(errors="replace")[-4000:]
        except OSError:
            return self._kept[0]

    def access_log(self) -> str:
        try:
            return (self.dir / "access.log").read_text(errors="replace")
        except OSError:
            return self._kept[1]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._kept = (self.error_log(), self.access_log())  # readable after the folder is gone
        shutil.rmtree(self.dir, ignore_errors=True)


class Service:
    """A child process from a unit's command line, logging to a file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT
            )

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode

    def text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def wait_for(self, pattern: str, timeout: float, start_at: int = 0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.text()[start_at:], re.MULTILINE):
                return True
            if self.process is not None and self.process.poll() is not None:
                return False
            time.sleep(0.1)
        return False


def base_env(**extra: str) -> dict[str, str]:
    """The parent's environment without CLOUDTAB_* settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDTAB_")}
    env.update(extra)
    return env
