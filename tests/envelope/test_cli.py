"""The cloudtab-envelope command: keygen / seal / open round trip and failures."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from envelope import RECORD_SIZE, cli, decode_public_key, fingerprint, load_private_key

ROOT = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    folder = tmp_path / "keys"
    assert run(capsys, "keygen", "--out", str(folder))[0] == 0
    return folder


@pytest.fixture
def bundle(tmp_path: Path, keys: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.pdf").write_bytes(os.urandom(RECORD_SIZE + 10))
    (src / "notes.txt").write_bytes(b"hello")
    (src / "empty.bin").write_bytes(b"")
    out = tmp_path / "bundle"
    code, _, err = run(
        capsys,
        "seal",
        "--public-key",
        str(keys / "shop_key.pub"),
        "--job-id",
        "JOB-1",
        "--out",
        str(out),
        "--customer",
        "Zoë",
        "--note",
        "blue",
        "--copies",
        "3",
        "--color",
        "color",
        "--sides",
        "two-sided-long-edge",
        "--page-ranges",
        "1-2",
        "--media",
        "Letter",
        "--pages-per-sheet",
        "2",
        str(src / "a.pdf"),
        str(src / "notes.txt"),
        str(src / "empty.bin"),
    )
    assert code == 0, err
    return out


def test_keygen_files(keys: Path) -> None:
    pem, pub = keys / "shop_key.pem", keys / "shop_key.pub"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    text = pub.read_text()
    assert text.endswith("\n") and text.count("\n") == 1
    assert fingerprint(load_private_key(pem)) == fingerprint(decode_public_key(text))


def test_keygen_with_passphrase(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pw = tmp_path / "pw"
    pw.write_text("s3cret\n")
    assert run(capsys, "keygen", "--out", str(tmp_path / "k"), "--passphrase-file", str(pw))[0] == 0
    assert b"ENCRYPTED" in (tmp_path / "k" / "shop_key.pem").read_bytes()
    load_private_key(tmp_path / "k" / "shop_key.pem", b"s3cret")
    code, _, err = run(capsys, "keygen", "--out", str(tmp_path / "k"))
    assert code == 1 and "exists already" in err


def test_round_trip(tmp_path: Path, keys: Path, bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    job = json.loads((bundle / "job.json").read_text())
    assert job["v"] == 1 and job["job_id"] == "JOB-1" and job["files"] == 3
    assert sorted(p.name for p in (bundle / "files").iterdir()) == ["0", "1", "2"]
    out = tmp_path / "out"
    code, stdout, err = run(
        capsys,
        "open",
        "--private-key",
        str(keys / "shop_key.pem"),
        "--bundle",
        str(bundle),
        "--out",
        str(out),
    )
    assert code == 0, err
    shown = json.loads(stdout)
    assert "k" not in shown
    assert shown["customer"] == {"name": "Zoë", "note": "blue"}
    assert shown["v"] == 2
    assert shown["options"] == {
        "color": "color",
        "sides": "two-sided-long-edge",
        "media": "Letter",
        "pages_per_sheet": 2,
        "orientation": "portrait",
    }
    assert [(f["copies"], f["page_ranges"]) for f in shown["files"]] == [(3, "1-2")] * 3
    assert [f["name"] for f in shown["files"]] == ["a.pdf", "notes.txt", "empty.bin"]
    assert (out / "a.pdf").read_bytes() == (tmp_path / "src" / "a.pdf").read_bytes()
    assert (out / "notes.txt").read_bytes() == b"hello"
    assert (out / "empty.bin").read_bytes() == b""
    assert not any(p.name.startswith(".cloudtab-open-") for p in tmp_path.iterdir())


def test_public_key_as_text(tmp_path: Path, keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "f").write_bytes(b"x")
    key_text = (keys / "shop_key.pub").read_text().strip()
    code, _, err = run(
        capsys,
        "seal",
        "--public-key",
        key_text,
        "--job-id",
        "J",
        "--out",
        str(tmp_path / "b"),
        str(tmp_path / "f"),
    )
    assert code == 0, err
    code, _, err = run(
        capsys,
        "seal",
        "--public-key",
        "garbage",
        "--job-id",
        "J",
        "--out",
        str(tmp_path / "c"),
        str(tmp_path / "f"),
    )
    assert code == 1 and err.count("\n") == 1


def corrupt_record(bundle: Path) -> str:
    path = bundle / "files" / "0"
    data = bytearray(path.read_bytes())
    data[RECORD_SIZE + 20] ^= 0x40
    path.write_bytes(bytes(data))
    return "files/0 (a.pdf)"


def truncate(bundle: Path) -> str:
    path = bundle / "files" / "0"
    path.write_bytes(path.read_bytes()[: RECORD_SIZE + 16])
    return "files/0 (a.pdf)"


def other_job(bundle: Path) -> str:
    job = json.loads((bundle / "job.json").read_text())
    job["job_id"] = "JOB-2"
    (bundle / "job.json").write_text(json.dumps(job))
    return "manifest"


def swap_files(bundle: Path) -> str:
    a, b = bundle / "files" / "1", bundle / "files" / "2"
    data = a.read_bytes()
    a.write_bytes(b.read_bytes())
    b.write_bytes(data)
    return "files/1 (notes.txt)"


def missing_file(bundle: Path) -> str:
    (bundle / "files" / "2").unlink()
    return "files/2 (empty.bin)"


def extra_file(bundle: Path) -> str:
    (bundle / "files" / "3").write_bytes(b"junk")
    return "files/3"


def bad_job_json(bundle: Path) -> str:
    (bundle / "job.json").write_text("{")
    return "job.json"


@pytest.mark.parametrize(
    "damage",
    [
        corrupt_record,
        truncate,
        other_job,
        swap_files,
        missing_file,
        extra_file,
        bad_job_json,
    ],
)
def test_failures_write_nothing(
    tmp_path: Path, keys: Path, bundle: Path, capsys: pytest.CaptureFixture[str], damage
) -> None:  # type: ignore[no-untyped-def]
    where = damage(bundle)
    out = tmp_path / "out"
    code, stdout, err = run(
        capsys,
        "open",
        "--private-key",
        str(keys / "shop_key.pem"),
        "--bundle",
        str(bundle),
        "--out",
        str(out),
    )
    assert code == 1
    assert stdout == ""
    assert err.count("\n") == 1 and where in err, err
    assert not out.exists() or not any(out.iterdir())
    assert not any(p.name.startswith(".cloudtab-open-") for p in tmp_path.iterdir())


def test_wrong_private_key(tmp_path: Path, bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "keygen", "--out", str(tmp_path / "other"))
    code, _, err = run(
        capsys,
        "open",
        "--private-key",
        str(tmp_path / "other" / "shop_key.pem"),
        "--bundle",
        str(bundle),
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 1 and "another shop key" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_wrong_passphrase(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pw = tmp_path / "pw"
    pw.write_text("right")
    run(capsys, "keygen", "--out", str(tmp_path / "k"), "--passphrase-file", str(pw))
    pw.write_text("wrong")
    code, _, err = run(
        capsys,
        "open",
        "--private-key",
        str(tmp_path / "k" / "shop_key.pem"),
        "--passphrase-file",
        str(pw),
        "--bundle",
        str(tmp_path),
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 1 and "passphrase" in err and err.count("\n") == 1


def test_sanitised_names(tmp_path: Path, keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Names come from the manifest: paths, hidden names, devices and duplicates are neutralised."""
    from envelope import Customer, SourceFile, decode_public_key, write_bundle

    src = tmp_path / "x"
    src.write_bytes(b"data")
    names = ["../../evil.sh", ".hidden", "CON", "dup.txt", "dup.txt", "DUP.txt", "nel\x85line.txt", "rlo\u202etxt.exe"]
    write_bundle(
        tmp_path / "b",
        public_key=decode_public_key((keys / "shop_key.pub").read_text()),
        job_id="J",
        sources=[SourceFile(path=src, name=n, media_type="text/plain") for n in names],
        customer=Customer(),
    )
    out = tmp_path / "out"
    out.mkdir()
    (out / "evil.sh").write_text("already here")
    code, stdout, err = run(
        capsys,
        "open",
        "--private-key",
        str(keys / "shop_key.pem"),
        "--bundle",
        str(tmp_path / "b"),
        "--out",
        str(out),
    )
    assert code == 0, err
    saved = [f["saved_as"] for f in json.loads(stdout)["files"]]
    assert saved == [
        "evil (2).sh",
        "hidden",
        "_CON",
        "dup.txt",
        "dup (2).txt",
        "DUP (3).txt",
        "nel_line.txt",
        "rlotxt.exe",
    ]
    assert sorted(p.name for p in out.iterdir()) == sorted([*saved, "evil.sh"])
    assert (out / "evil.sh").read_text() == "already here"
    assert not (tmp_path / "evil.sh").exists()


def test_console_script_module(tmp_path: Path) -> None:
    """The module runs as a program; usage errors exit 2."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "envelope.cli", "keygen", "--out", str(tmp_path / "k")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "envelope.cli", "bogus"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 2


def test_seal_failure_keeps_existing_folder(tmp_path: Path, keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A non-empty --out folder is refused and left exactly as it was."""
    out = tmp_path / "existing"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    (tmp_path / "f").write_bytes(b"x")
    code, _, err = run(
        capsys,
        "seal",
        "--public-key",
        str(keys / "shop_key.pub"),
        "--job-id",
        "J",
        "--out",
        str(out),
        str(tmp_path / "f"),
    )
    assert code == 1 and err.count("\n") == 1
    assert (out / "precious.txt").read_text() == "keep me"
    code, _, err = run(
        capsys,
        "seal",
        "--public-key",
        str(keys / "shop_key.pub"),
        "--job-id",
        "bad\nid",
        "--out",
        str(tmp_path / "new"),
        str(tmp_path / "f"),
    )
    assert code == 1 and not (tmp_path / "new").exists()
