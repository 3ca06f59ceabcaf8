"""Office and text documents to PDF with LibreOffice headless, in a sandbox.

:func:`convert_to_pdf` is a plain function of (bytes, kind, limits) -> PDF
bytes, so it can run in the caller's process or in a worker process. Each call:

* refuses a file whose bytes are not the kind it claims (a PDF named .docx),
  and zip packages that unpack too large, have too many parts or too many
  spreadsheet rows (:mod:`kiosk.core.office_checks`), before LibreOffice sees it;
* writes the document, a private LibreOffice profile and the output folder
  into a new mode-0700 folder on a RAM-backed file system (``/dev/shm``), and
  overwrites and deletes that folder afterwards, on success and on failure;
* runs ``soffice --headless --convert-to pdf`` inside bubblewrap (no network,
  no view of the home folders, only /usr and a few /etc files read-only), or
  in a new network namespace with ``unshare -n`` when bubblewrap is missing;
* with an address-space limit, a file-size limit and a time limit (the whole
  process group is killed), one conversion at a time per machine (flock);
* with a profile that never runs macros and never updates links.

LibreOffice exits 0 even when a file fails, so success is a PDF in the
output folder, nothing else.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kiosk.core.errors import DocumentError, DocumentTooLarge
from kiosk.core.formats import OFFICE_KINDS
from kiosk.core.office_checks import check_office_bytes

log = logging.getLogger(__name__)

GIB = 1 << 30
MIB = 1 << 20
RAM_DIR = Path("/dev/shm")
WORK_PARENT = "cloudtab-convert"  # empty between conversions; holds the machine-wide lock
WORK_ROOT_ENV = "CLOUDTAB_CONVERT_DIR"  # another parent folder (tests: one per run, so runs never share one)

# Macros never run; links (sections, images, OLE, DDE, external data) never update.
PROFILE_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Content/Update"><prop oor:name="Link" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Content/Update"><prop oor:name="Link" oor:op="fuse"><value>1</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="UseOpenCL" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""
# Only what LibreOffice needs to start and to find fonts: nothing of /home, /root, /var.
BWRAP_ETC = ("/etc/fonts", "/etc/libreoffice", "/etc/ld.so.cache", "/etc/alternatives")


class ConversionError(DocumentError):
    """The document could not be turned into a PDF (damaged, refused or failed)."""


class ConversionTimeout(ConversionError):
    """The conversion ran past its time limit and was stopped."""


class ConversionTooLarge(ConversionError, DocumentTooLarge):
    """The document is too large to convert safely (memory, size, rows, parts)."""


@dataclass(frozen=True)
class ConvertLimits:
    """Limits of one conversion (defaults fit a kiosk PC with 4 GB of memory)."""

    seconds: float = 60.0
    memory_bytes: int = 2 * GIB  # address space of LibreOffice
    max_input_bytes: int = 100 * MIB
    max_output_bytes: int = 512 * MIB  # any one file LibreOffice writes
    max_unpacked_bytes: int = 512 * MIB  # sum of a zip package's parts
    max_parts: int = 10_000
    max_rows: int = 200_000  # spreadsheet rows (xlsx)


@dataclass(frozen=True)
class Sandbox:
    """How conversions are confined on this machine."""

    soffice: Path
    method: str  # "bwrap" | "unshare" | "none"
    ram_dir: Path | None  # None: no RAM-backed folder, the system temp folder is used

    @property
    def network_isolated(self) -> bool:
        return self.method in ("bwrap", "unshare")


_THREAD_LOCK = threading.Lock()
_SANDBOX: dict[Path, Sandbox] = {}
_CONFIGURED: list[str] = [""]  # the kiosk settings' "soffice" (kiosk.core.config.Settings)


def configure_soffice(path: str) -> None:
    """Use the settings' ``soffice`` path ("" = look for it); called when settings load or change."""
    _CONFIGURED[0] = path.strip()


def find_soffice(environ: dict[str, str] | None = None, configured: str | None = None) -> Path | None:
    """Where LibreOffice's ``soffice`` is, or None.

    Order: ``CLOUDTAB_SOFFICE``; the kiosk setting ``soffice`` (``configured``,
    default: what :func:`configure_soffice` was given); ``soffice`` on PATH; the
    usual install folders (Linux packages and tarballs, Windows Program Files,
    macOS app bundle). A named path that is not a file means no LibreOffice.
    """
    env = os.environ if environ is None else environ
    override = env.get("CLOUDTAB_SOFFICE", "") or (_CONFIGURED[0] if configured is None else configured)
    if override:
        return Path(override) if Path(override).is_file() else None
    found = shutil.which("soffice") or shutil.which("soffice.exe")
    if found:
        return Path(found).resolve()
    candidates: list[Path] = []
    if sys.platform == "win32":
        for var in ("ProgramFiles", "ProgramFiles(x86)", "ProgramW6432"):
            if env.get(var):
                candidates.append(Path(env[var]) / "LibreOffice" / "program" / "soffice.exe")
    elif sys.platform == "darwin":
        candidates.append(Path("/Applications/LibreOffice.app/Contents/MacOS/soffice"))
    else:
        candidates.append(Path("/usr/lib/libreoffice/program/soffice"))
        candidates.extend(sorted(Path("/opt").glob("libreoffice*/program/soffice"), reverse=True))
    return next((c for c in candidates if c.is_file()), None)


def _ram_dir() -> Path | None:
    """A RAM-backed (tmpfs) folder we can write to, if the OS has one."""
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            tmpfs = {line.split()[1] for line in mounts if line.split()[2:3] == ["tmpfs"]}
    except OSError:
        return None
    if str(RAM_DIR) in tmpfs and os.access(RAM_DIR, os.W_OK | os.X_OK):
        return RAM_DIR
    return None


def _works(cmd: list[str]) -> bool:
    try:
        return (
            subprocess.run(
                cmd,
                check=False,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=10,
            ).returncode
            == 0
        )
    except (OSError, subprocess.SubprocessError):
        return False


def sandbox(soffice: Path | None = None) -> Sandbox | None:
    """How conversions run here (probed once per soffice), or None without LibreOffice."""
    path = soffice or find_soffice()
    if path is None:
        return None
    if path not in _SANDBOX:
        method = "none"
        bwrap, unshare = shutil.which("bwrap"), shutil.which("unshare")
        if bwrap and _works([bwrap, "--ro-bind", "/", "/", "--unshare-net", "--die-with-parent", "true"]):
            method = "bwrap"
        elif unshare and (_works([unshare, "-n", "true"]) or _works([unshare, "-r", "-n", "true"])):
            method = "unshare"
        if method == "none":
            log.warning("conversions run WITHOUT network isolation: neither bwrap nor unshare -n works here")
        _SANDBOX[path] = Sandbox(path, method, _ram_dir())
        if _SANDBOX[path].ram_dir is None:
            log.warning("no RAM-backed folder: conversions use the system temp folder %s", tempfile.gettempdir())
    return _SANDBOX[path]


def convert_to_pdf(
    data: bytes | bytearray, kind: str, limits: ConvertLimits | None = None, *, soffice: Path | None = None
) -> bytearray:
    """Convert one document (``kind`` = docx, doc, odt, rtf, txt, xlsx, ods, pptx, odp) to PDF.

    Returns the PDF as a new bytearray (the caller wipes it). Nothing of the
    document is left on disk afterwards.

    Raises:
        UnsupportedMedia: unknown kind, or LibreOffice is not installed.
        ConversionTooLarge: input, unpacked size, parts, rows, memory or output over the limits.
        ConversionTimeout: the time limit passed.
        ConversionError: the bytes are not that kind of document, or LibreOffice failed.
    """
    from kiosk.core.errors import UnsupportedMedia

    limits = limits or ConvertLimits()
    if kind not in OFFICE_KINDS:
        raise UnsupportedMedia(f"the kiosk does not convert {kind or 'this kind of'} files")
    box = sandbox(soffice)
    if box is None:
        raise UnsupportedMedia("this kiosk cannot convert documents (LibreOffice is not installed)")
    if len(data) > limits.max_input_bytes:
        raise ConversionTooLarge(f"the document is larger than {limits.max_input_bytes // MIB} MB")
    check_office_bytes(
        data, kind, max_unpacked=limits.max_unpacked_bytes, max_parts=limits.max_parts, max_rows=limits.max_rows
    )
    with _one_at_a_time(box) as parent, _work_folder(parent) as work:
        return _run(box, work, data, kind, limits)


def work_parent(box: Sandbox, environ: dict[str, str] | None = None) -> Path:
    """The folder every conversion's work folder is made in (and the lock is taken on).

    ``CLOUDTAB_CONVERT_DIR`` when set (a test run's own folder), else
    ``cloudtab-convert`` in the RAM-backed folder (or the system temp folder).
    """
    env = os.environ if environ is None else environ
    override = env.get(WORK_ROOT_ENV, "")
    if override:
        return Path(override)
    return (box.ram_dir or Path(tempfile.gettempdir())) / WORK_PARENT


@contextlib.contextmanager
def _one_at_a_time(box: Sandbox) -> Iterator[Path]:
    """Serialise conversions in this process (lock) and on this machine (flock on the parent)."""
    parent = work_parent(box)
    with _THREAD_LOCK:
        parent.mkdir(mode=0o700, exist_ok=True)
        os.chmod(parent, 0o700)
        if sys.platform == "win32":
            yield parent
            return
        import fcntl

        fd = os.open(parent, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield parent
        finally:
            os.close(fd)


@contextlib.contextmanager
def _work_folder(parent: Path) -> Iterator[Path]:
    """A new 0700 folder, overwritten and removed on the way out whatever happened."""
    work = Path(tempfile.mkdtemp(prefix="job-", dir=parent))
    try:
        yield work
    finally:
        wipe_tree(work)


def wipe_tree(root: Path) -> None:
    """Overwrite every regular file under ``root`` with zeros, then delete the tree."""
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            with contextlib.suppress(OSError):
                if os.path.isfile(path) and not os.path.islink(path):
                    size = os.path.getsize(path)
                    with open(path, "r+b") as fh:
                        fh.writelines(bytes(min(MIB, size - pos)) for pos in range(0, size, MIB))
    shutil.rmtree(root, ignore_errors=True)
    if root.exists():
        log.error("conversion folder %s could not be removed", root)


def _command(box: Sandbox, work: Path, src: Path, limits: ConvertLimits) -> list[str]:
    soffice_args = [
        "--headless",
        "--invisible",
        "--norestore",
        "--nologo",
        "--nodefault",
        "--nolockcheck",
        "--nofirststartwizard",
    ]
    if src.suffix == ".txt":
        soffice_args.append("--infilter=Text (encoded):UTF8,LF,,,")
    if box.method == "bwrap":
        inner = Path("/job")
        cmd = [
            shutil.which("bwrap") or "bwrap",
            "--unshare-all",
            "--die-with-parent",
            "--new-session",
            "--ro-bind",
            "/usr",
            "/usr",
        ]
        for link in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            target = Path("/") / link
            if target.is_symlink():
                cmd += ["--symlink", os.readlink(target), str(target)]
            elif target.is_dir():
                cmd += ["--ro-bind", str(target), str(target)]
        for path in BWRAP_ETC:
            if os.path.exists(path):
                cmd += ["--ro-bind", path, path]
        soffice = box.soffice.resolve()
        if not str(soffice).startswith("/usr/"):
            cmd += ["--ro-bind", str(soffice.parent.parent), str(soffice.parent.parent)]
        cmd += [
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--tmpfs",
            "/tmp",
            "--bind",
            str(work),
            str(inner),
            "--setenv",
            "HOME",
            str(inner),
            "--setenv",
            "TMPDIR",
            "/tmp",
            "--chdir",
            str(inner),
            "--",
            str(soffice),
        ]
    else:
        inner = work
        cmd = []
        if box.method == "unshare":
            cmd = (
                [shutil.which("unshare") or "unshare", "-n"]
                if os.geteuid() == 0
                else [shutil.which("unshare") or "unshare", "-r", "-n"]
            )
        cmd.append(str(box.soffice))
    cmd += soffice_args + [
        f"-env:UserInstallation=file://{inner}/profile",
        "--convert-to",
        "pdf",
        "--outdir",
        f"{inner}/out",
        f"{inner}/in/{src.name}",
    ]
    prlimit = shutil.which("prlimit")
    if prlimit and sys.platform.startswith("linux"):
        cmd = [prlimit, f"--as={limits.memory_bytes}", f"--fsize={limits.max_output_bytes}", "--core=0", "--"] + cmd
    return cmd


def _run(box: Sandbox, work: Path, data: bytes | bytearray, kind: str, limits: ConvertLimits) -> bytearray:
    (work / "in").mkdir(mode=0o700)
    (work / "out").mkdir(mode=0o700)
    (work / "profile" / "user").mkdir(mode=0o700, parents=True)
    (work / "profile" / "user" / "registrymodifications.xcu").write_text(PROFILE_XCU, encoding="utf-8")
    src = work / "in" / f"document.{kind}"
    fd = os.open(src, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(work),
        "TMPDIR": str(work),
        "LANG": "C.UTF-8",
        "SAL_USE_VCLPLUGIN": "svp",
    }
    if sys.platform == "win32":
        env = {**os.environ, "TMP": str(work), "TEMP": str(work)}
    proc = subprocess.Popen(
        _command(box, work, src, limits),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=sys.platform != "win32",
    )
    try:
        output, _ = proc.communicate(timeout=limits.seconds)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise ConversionTimeout(
            f"the document took longer than {limits.seconds:g} seconds to convert and was stopped"
        ) from None
    except BaseException:
        _kill(proc)
        raise
    _kill(proc)  # why: soffice may leave helpers behind in its process group
    pdf = work / "out" / "document.pdf"
    if sys.platform != "win32" and proc.returncode in (-signal.SIGXFSZ, 128 + signal.SIGXFSZ):
        raise ConversionTooLarge("the converted document would be too large to print")
    if not pdf.is_file():
        text = output.decode("utf-8", "replace")
        log.info("conversion of a %s failed: exit %s, %d bytes of output", kind, proc.returncode, len(text))
        if proc.returncode in (134, -6, 127, -9, 137, -11, 139) or "std::bad_alloc" in text:
            raise ConversionTooLarge("the document needs more memory to convert than the kiosk allows")
        raise ConversionError(f"the {kind.upper()} file is damaged or cannot be converted")
    size = pdf.stat().st_size
    if size > limits.max_output_bytes:
        raise ConversionTooLarge("the converted document would be too large to print")
    out = bytearray(size)
    with open(pdf, "rb") as fh:
        got = fh.readinto(out)
    if got != size or out[:5] != b"%PDF-":
        raise ConversionError(f"the {kind.upper()} file could not be converted")
    return out


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if sys.platform == "win32":
        if proc.poll() is None:
            proc.kill()
    else:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
