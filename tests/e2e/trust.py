"""A browser profile that trusts a certificate authority, as a phone with the CA installed."""

from __future__ import annotations

import subprocess
from pathlib import Path


def trusting_home(home: Path, ca_file: Path) -> Path:
    """A HOME whose NSS database (what Chromium on Linux trusts) holds `ca_file` as a CA.

    Raises:
        subprocess.CalledProcessError: certutil (apt: libnss3-tools) failed.
    """
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{nssdb}", "--empty-password"], check=True, timeout=30)
    subprocess.run(
        ["certutil", "-A", "-d", f"sql:{nssdb}", "-n", "CloudTab test CA", "-t", "C,,", "-i", str(ca_file)],
        check=True,
        timeout=30,
    )
    return home
