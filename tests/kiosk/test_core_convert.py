"""Office and text documents become PDFs at the kiosk: real LibreOffice, real documents.

The documents are made by LibreOffice itself (tests/fixtures/documents.py):
10 pages each, the DOCX with a table and an image.
"""

from __future__ import annotations

import io
import json
import os
import stat
import uuid
import zipfile
from pathlib import Path

import pytest

from kiosk.core import convert, formats
from kiosk.core.convert import ConversionError, convert_to_pdf
from kiosk.core.errors import UnsupportedMedia
from tests.kiosk.convert_helpers import (
    assert_nothing_left,
    pages,
    text_and_images,
    work_parent,
)

KINDS = ["docx", "doc", "odt", "rtf", "txt", "xlsx", "ods", "pptx", "odp"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_becomes_a_ten_page_pdf(office_documents, kind: str) -> None:
    pdf = convert_to_pdf(office_documents[kind], kind)
    assert isinstance(pdf, bytearray) and pdf[:5] == b"%PDF-"
    assert pages(pdf) == 10
    assert_nothing_left()


def test_the_docx_has_a_table_and_an_image_that_survive_conversion(office_documents) -> None:
    data = office_documents["docx"]
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert "<w:tbl>" in package.read("word/document.xml").decode()
        assert any(name.startswith("word/media/") for name in package.namelist())
    text, images = text_and_images(convert_to_pdf(data, "docx"))
    assert "Item 5" in text and "15 EUR" in text  # the table's last row
    assert images >= 1


def _record_work_folders(monkeypatch) -> list[Path]:  # type: ignore[no-untyped-def]
    """The work folders conversions use from now on (checked afterwards: do they still exist?)."""
    folders: list[Path] = []
    real_run = convert._run

    def spy(box, work, data, kind, limits):  # type: ignore[no-untyped-def]
        folders.append(work)
        assert work.is_dir()  # LibreOffice is about to run in it
        return real_run(box, work, data, kind, limits)

    monkeypatch.setattr(convert, "_run", spy)
    return folders


def test_nothing_of_the_document_is_left_after_success(office_documents, monkeypatch) -> None:
    folders = _record_work_folders(monkeypatch)
    marker = f"kiosk-leftover-{uuid.uuid4().hex}"  # made at run time: in no file before
    pdf = convert_to_pdf(f"{marker}\nsecond line\n".encode(), "txt")
    assert marker in text_and_images(pdf)[0]
    assert len(folders) == 1 and not folders[0].exists()
    assert_nothing_left()
    assert _files_containing(marker.encode()) == []


def test_nothing_is_left_after_a_failed_conversion(office_documents, monkeypatch) -> None:
    folders = _record_work_folders(monkeypatch)
    marker = f"kiosk-failure-{uuid.uuid4().hex}".encode()
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as package:
        package.writestr("[Content_Types].xml", b"<Types/>")
        package.writestr("word/document.xml", b"<w:document>" + marker + b"\x00\xff not xml")
    with pytest.raises(ConversionError, match="damaged|cannot be converted"):
        convert_to_pdf(broken.getvalue(), "docx")
    assert len(folders) == 1 and not folders[0].exists()  # LibreOffice ran and failed; its folder is gone
    assert_nothing_left()
    assert _files_containing(marker) == []


def test_the_work_folder_is_private_and_in_ram(office_documents, monkeypatch) -> None:
    seen: list[tuple[Path, int, list[str]]] = []
    real_run = convert._run

    def spy(box, work, data, kind, limits):  # type: ignore[no-untyped-def]
        result = real_run(box, work, data, kind, limits)
        seen.append((work, stat.S_IMODE(work.stat().st_mode), sorted(os.listdir(work))))
        return result

    monkeypatch.setattr(convert, "_run", spy)
    convert_to_pdf(b"hello\n", "txt")
    work, mode, entries = seen[0]
    assert work.parent == work_parent() and str(work).startswith("/dev/shm/cloudtab-convert-run-")
    assert mode == 0o700 and stat.S_IMODE(work_parent().stat().st_mode) == 0o700
    assert {"in", "out", "profile"} <= set(entries)  # and caches LibreOffice makes under HOME
    assert not work.exists()


def test_the_parent_folder_is_in_ram_unless_a_run_names_its_own() -> None:
    box = convert.sandbox()
    assert box is not None
    assert convert.work_parent(box, {}) == Path("/dev/shm/cloudtab-convert")
    assert convert.work_parent(box, {convert.WORK_ROOT_ENV: "/dev/shm/x"}) == Path("/dev/shm/x")
    assert work_parent() != Path("/dev/shm/cloudtab-convert")  # this run's own (tests/fixtures/documents.py)


def test_the_sandbox_here_is_bubblewrap_without_network() -> None:
    box = convert.sandbox()
    assert box is not None
    assert box.method == "bwrap" and box.network_isolated
    assert box.ram_dir == Path("/dev/shm")


def test_refuses_kinds_it_does_not_convert() -> None:
    with pytest.raises(UnsupportedMedia):
        convert_to_pdf(b"x", "exe")


def test_without_libreoffice_office_types_are_not_offered(tmp_path, monkeypatch) -> None:
    missing = {"CLOUDTAB_SOFFICE": str(tmp_path / "no-soffice"), "PATH": ""}
    assert convert.find_soffice(missing) is None
    without = formats.accepted_media_types(environ=missing)
    assert "application/pdf" in without and "image/jpeg" in without
    assert not set(formats.OFFICE_MEDIA_TYPES) & set(without)
    with_office = formats.accepted_media_types()
    assert set(formats.OFFICE_MEDIA_TYPES) <= set(with_office)
    assert ("image/heic" in with_office) == formats.heif_available()


def test_finds_libreoffice_in_windows_program_files(tmp_path, monkeypatch) -> None:
    exe = tmp_path / "LibreOffice" / "program" / "soffice.exe"
    exe.parent.mkdir(parents=True)
    exe.write_bytes(b"MZ")
    monkeypatch.setattr(convert.sys, "platform", "win32")
    monkeypatch.setattr(convert.shutil, "which", lambda name: None)
    assert convert.find_soffice({"ProgramFiles": str(tmp_path)}) == exe
    assert convert.find_soffice({"ProgramFiles": str(tmp_path / "elsewhere")}) is None


def test_office_kind_from_type_or_name() -> None:
    assert formats.office_kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document") == "docx"
    assert formats.office_kind("", "Report.DOCX") == "docx"
    assert formats.office_kind("application/octet-stream", "sheet.ods") == "ods"
    assert formats.office_kind("application/pdf", "looks.docx") is None  # the type wins over the name
    assert formats.office_kind("text/rtf") == "rtf"


def _files_containing(needle: bytes) -> list[str]:
    """Files under /dev/shm and /tmp (outside pytest's own folders) whose bytes contain ``needle``."""
    hits = []
    for root in ("/dev/shm", "/tmp"):
        for dirpath, dirnames, files in os.walk(root):
            dirnames[:] = [d for d in dirnames if not d.startswith(("pytest-of-", "bash_jobs"))]
            for name in files:
                path = os.path.join(dirpath, name)
                try:
                    if os.path.isfile(path) and os.path.getsize(path) < 50 << 20:
                        with open(path, "rb") as fh:
                            if needle in fh.read():
                                hits.append(path)
                except OSError:
                    continue
    return hits


def test_the_kiosk_setting_names_libreoffice_before_path_and_the_usual_places(tmp_path, monkeypatch) -> None:
    from kiosk.core.config import load_settings, save_settings

    elsewhere = tmp_path / "LibreOffice 7" / "program" / "soffice"
    elsewhere.parent.mkdir(parents=True)
    elsewhere.write_bytes(b"#!/bin/sh\n")
    save_settings(tmp_path, load_settings(tmp_path).replace(soffice=str(elsewhere)))
    assert json.loads((tmp_path / "settings.json").read_text())["soffice"] == str(elsewhere)
    monkeypatch.setattr(convert, "_CONFIGURED", [""])
    from kiosk.core.service import KioskCore

    KioskCore(tmp_path)  # loading the settings configures the path
    assert convert.find_soffice({}) == elsewhere
    assert convert.find_soffice({"CLOUDTAB_SOFFICE": str(elsewhere.parent / "other")}) is None  # env wins
    convert.configure_soffice(str(tmp_path / "gone"))
    assert convert.find_soffice({}) is None  # a named path that is missing: no Office types
    convert.configure_soffice("")
    assert convert.find_soffice({}) is not None  # back to PATH (/usr/bin/soffice here)
