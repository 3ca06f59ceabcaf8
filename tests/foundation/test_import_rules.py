"""Layering rules, checked on the source (every import statement, however deep in a
function) and at run time (what importing a layer really loads).

- relay_grpc: only server.py, interceptors.py, cli.py and servicers/ may import grpc
  or the generated protos; domain and store modules stay transport-free.
- kiosk/core: no Kivy (the UI is one front end of several).
- envelope and cloudtab_rpc/reasons.py: neither grpc nor Kivy nor any app package.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GRPC = ("grpc", "grpc_status", "grpc_health", "grpc_reflection", "cloudtab.v1", "google.rpc")
RELAY_TRANSPORT = {"server.py", "interceptors.py", "cli.py"}


def imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` or ``from ... import`` in ``path`` names (absolute)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _violations(files: list[Path], banned: tuple[str, ...]) -> list[str]:
    out = []
    for path in files:
        for name in sorted(imported_modules(path)):
            if any(name == b or name.startswith(b + ".") for b in banned):
                out.append(f"{path.relative_to(ROOT)} imports {name}")
    return out


def _relay_domain_files() -> list[Path]:
    files = []
    for path in sorted((ROOT / "relay_grpc").rglob("*.py")):
        rel = path.relative_to(ROOT / "relay_grpc")
        if rel.parts[0] in ("servicers", "migrations") or str(rel) in RELAY_TRANSPORT:
            continue
        files.append(path)
    return files


def test_relay_domain_imports_no_grpc() -> None:
    assert len(_relay_domain_files()) > 10
    assert _violations(_relay_domain_files(), GRPC) == []


def test_kiosk_core_imports_no_kivy() -> None:
    assert _violations(sorted((ROOT / "kiosk" / "core").rglob("*.py")), ("kivy",)) == []


def test_envelope_and_reasons_import_no_transport_or_app() -> None:
    files = [*sorted((ROOT / "envelope").rglob("*.py")), ROOT / "cloudtab_rpc" / "reasons.py"]
    banned = (*GRPC, "kivy", "relay_grpc", "web_bridge", "kiosk", "launcher", "flask")
    assert _violations(files, banned) == []


def test_the_rule_sees_imports_inside_functions(tmp_path: Path) -> None:
    """The checker can fail: an import hidden in a function is found."""
    sample = tmp_path / "x.py"
    sample.write_text("def f():\n    from grpc import aio\n    import kivy.app\n")
    assert imported_modules(sample) >= {"grpc", "grpc.aio", "kivy.app"}


@pytest.mark.parametrize(
    ("code", "banned"),
    [
        ("import relay_grpc.app, relay_grpc.reaper, relay_grpc.streams, relay_grpc.transfers", ("grpc", "cloudtab")),
        (
            (
                "import pkgutil, importlib, kiosk.core\n"
                "for m in pkgutil.walk_packages(kiosk.core.__path__, 'kiosk.core.'): importlib.import_module(m.name)"
            ),
            ("kivy",),
        ),
        (
            (
                "import pkgutil, importlib, envelope, cloudtab_rpc.reasons\n"
                "for m in pkgutil.walk_packages(envelope.__path__, 'envelope.'): importlib.import_module(m.name)"
            ),
            ("grpc", "kivy", "relay_grpc", "web_bridge", "kiosk"),
        ),
    ],
    ids=["relay-domain", "kiosk-core", "envelope"],
)
def test_importing_a_layer_loads_nothing_banned(code: str, banned: tuple[str, ...]) -> None:
    probe = code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    modules = loaded.stdout.split()
    assert [m for m in modules if any(m == b or m.startswith(b + ".") for b in banned)] == []
