"""The published API: protos compile, generated code is fresh, buf lint is clean."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def _tree_diff(left: Path, right: Path) -> list[str]:
    """Relative paths that differ between two folders (missing, extra or changed)."""
    problems: list[str] = []
    comparison = filecmp.dircmp(left, right, ignore=["__pycache__"])
    stack = [(comparison, Path())]
    while stack:
        cmp, rel = stack.pop()
        problems += [f"only in committed: {rel / n}" for n in cmp.left_only]
        problems += [f"only in regenerated: {rel / n}" for n in cmp.right_only]
        _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
        problems += [f"differs: {rel / n}" for n in mismatch + errors]
        stack += [(sub, rel / name) for name, sub in cmp.subdirs.items()]
    return problems


def test_generated_code_is_fresh(tmp_path: Path) -> None:
    """scripts/gen-protos into a temporary folder reproduces generated/ exactly."""
    subprocess.run(
        [str(ROOT / "scripts" / "gen-protos"), str(tmp_path)],
        check=True,
        capture_output=True,
        env={"PATH": f"{VENV_BIN}:/usr/bin:/bin", "PYTHON": sys.executable},
    )
    assert _tree_diff(ROOT / "generated" / "cloudtab", tmp_path / "cloudtab") == []


def test_tree_diff_detects_a_change(tmp_path: Path) -> None:
    """The freshness check can fail: a changed file is reported."""
    shutil.copytree(ROOT / "generated" / "cloudtab", tmp_path / "cloudtab")
    target = tmp_path / "cloudtab" / "v1" / "common_pb2.pyi"
    target.write_text(target.read_text() + "\n# edited by hand\n")
    assert _tree_diff(ROOT / "generated" / "cloudtab", tmp_path / "cloudtab") == ["differs: v1/common_pb2.pyi"]


def test_buf_lint_is_clean() -> None:
    buf = shutil.which("buf", path=str(VENV_BIN)) or shutil.which("buf")
    assert buf, "buf binary missing (pip package buf-bin)"
    result = subprocess.run([buf, "lint"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def _api_base() -> str:
    """The commit the API must stay compatible with: the newest ``v*`` release tag;
    without one, where this branch left main; on main itself, the previous commit."""
    tags = _git("tag", "--list", "v*", "--sort=-creatordate", "--merged", "HEAD").split()
    if tags:
        return tags[0]
    head = _git("rev-parse", "HEAD")
    base = _git("merge-base", "HEAD", "main") if _git("branch", "--list", "main") else head
    return base if base != head else _git("rev-parse", "HEAD~1")


def _export(ref: str, target: Path) -> Path:
    """The protos and buf.yaml of ``ref`` in ``target``."""
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", ref, "protos", "buf.yaml"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def _buf_breaking(module: Path, against: Path) -> subprocess.CompletedProcess[str]:
    buf = shutil.which("buf", path=str(VENV_BIN)) or shutil.which("buf")
    assert buf, "buf binary missing (pip package buf-bin)"
    return subprocess.run(
        [buf, "breaking", str(module), "--against", str(against)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_buf_breaking_against_the_previous_api_is_clean(tmp_path: Path) -> None:
    """No breaking change against the last release (or the merge base, or the previous commit)."""
    base = _api_base()
    result = _buf_breaking(ROOT, _export(base, tmp_path / "base"))
    assert result.returncode == 0, f"breaking change against {base}:\n{result.stdout}{result.stderr}"


def test_buf_breaking_detects_a_removed_field(tmp_path: Path) -> None:
    """The breaking check can fail: dropping a field of the base API is reported."""
    base = _export(_api_base(), tmp_path / "base")
    changed = _export(_api_base(), tmp_path / "changed")
    proto = changed / "protos" / "cloudtab" / "v1" / "common.proto"
    text = proto.read_text()
    assert "  string job_code = 2;\n" in text
    proto.write_text(text.replace("  string job_code = 2;\n", ""))
    result = _buf_breaking(changed, base)
    assert result.returncode != 0 and "job_code" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "services"),
    [
        ("shop_directory_pb2", {"ShopDirectoryService": ["GetShop"]}),
        (
            "customer_jobs_pb2",
            {
                "CustomerJobsService": [
                    "CreateJob",
                    "UploadFile",
                    "GetUploadOffset",
                    "SubmitJob",
                    "CancelJob",
                    "GetJob",
                    "WatchJob",
                ]
            },
        ),
        (
            "shop_jobs_pb2",
            {
                "ShopJobsService": [
                    "Enroll",
                    "RotateKey",
                    "SubscribeJobs",
                    "GetJob",
                    "DownloadFile",
                    "UpdateJob",
                    "CompleteJob",
                    "RejectJob",
                    "PublishCapabilities",
                ]
            },
        ),
    ],
)
def test_services_expose_the_documented_rpcs(module: str, services: dict[str, list[str]]) -> None:
    import importlib

    descriptor = importlib.import_module(f"cloudtab.v1.{module}").DESCRIPTOR
    for service, methods in services.items():
        assert [m.name for m in descriptor.services_by_name[service].methods] == methods


def test_every_message_field_and_rpc_is_documented() -> None:
    """Integrators read the .proto comments: every message, field, enum value and rpc has one."""
    undocumented: list[str] = []
    for proto in sorted((ROOT / "protos").rglob("*.proto")):
        lines = proto.read_text().splitlines()
        for number, line in enumerate(lines):
            stripped = line.strip()
            is_decl = stripped.startswith(("message ", "rpc ", "service ", "enum ")) or (
                "=" in stripped and stripped.endswith(";") and not stripped.startswith(("//", "syntax", "option"))
            )
            if is_decl and not lines[number - 1].strip().startswith("//"):
                undocumented.append(f"{proto.name}:{number + 1}: {stripped}")
    assert undocumented == []


def test_api_reference_is_fresh(tmp_path: Path) -> None:
    """docs/api.md is what scripts/gen_api_docs.py makes from the current protos."""
    target = tmp_path / "api.md"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_api_docs.py"), str(target)], check=True)
    assert target.read_text() == (ROOT / "docs" / "api.md").read_text()
