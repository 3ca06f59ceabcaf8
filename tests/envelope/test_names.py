"""Sanitised output names for manifest file names."""

from __future__ import annotations

import pytest

from envelope import sanitize_name, unique_names


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\secret.doc", "secret.doc"),
        ("/abs/path.txt", "path.txt"),
        (".bashrc", "bashrc"),
        ("...", "file"),
        ("", "file"),
        ("   ", "file"),
        ("a\x00b\nc.txt", "a_b_c.txt"),
        ('what?<>|*:".pdf', "what_______.pdf"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("LPT1.pdf", "_LPT1.pdf"),
        ("nul", "_nul"),
        ("trailing. ", "trailing"),
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
        # Section 8: C1 controls and separators become "_", format characters go.
        ("a\x85b.pdf", "a_b.pdf"),
        ("x\x80\x9fy.txt", "x__y.txt"),
        ("line\u2028para\u2029.txt", "line_para_.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("\u2066evil\u2069.pdf", "evil.pdf"),
        ("zero\u200bwidth\ufeff.pdf", "zerowidth.pdf"),
    ],
)
def test_sanitize(raw: str, expected: str) -> None:
    assert sanitize_name(raw) == expected


def test_duplicates_numbered() -> None:
    assert unique_names(["a.pdf", "A.pdf", "a.pdf", "dir/a.pdf", "b"]) == [
        "a.pdf",
        "A (2).pdf",
        "a (3).pdf",
        "a (4).pdf",
        "b",
    ]
    assert unique_names(["x.txt"], {"x.txt"}) == ["x (2).txt"]
