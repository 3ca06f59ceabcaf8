"""``cloudtab-envelope``: keygen, seal and open bundles from the command line.

Exit status 0 on success, 1 on any envelope or I/O failure (one line on
stderr naming the file and the problem), 2 on a usage error (argparse).
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from envelope.bundle import SourceFile, open_bundle, write_bundle
from envelope.errors import EnvelopeError, InvalidKeyError
from envelope.keys import (
    decode_public_key,
    encode_public_key,
    fingerprint_display,
    generate_private_key,
    load_private_key,
    save_private_key,
)
from envelope.manifest import (
    COLORS,
    MEDIA,
    ORIENTATIONS,
    PAGES_PER_SHEET,
    SIDES,
    Customer,
    JobOptions,
)
from envelope.names import unique_names

PROG = "cloudtab-envelope"


class CliError(Exception):
    """A failure reported as one line on stderr with exit status 1."""


def _passphrase(path: str | None) -> bytes | None:
    if path is None:
        return None
    try:
        data = Path(path).read_bytes().rstrip(b"\r\n")
    except OSError as exc:
        raise CliError(f"{path}: cannot read passphrase file ({exc.strerror})") from None
    if not data:
        raise CliError(f"{path}: passphrase file is empty")
    return data


def _keygen(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pem, pub = out / "shop_key.pem", out / "shop_key.pub"
    for path in (pem, pub):
        if path.exists():
            raise CliError(f"{path}: exists already, not overwriting")
    key = generate_private_key()
    save_private_key(pem, key, _passphrase(args.passphrase_file))
    pub.write_text(encode_public_key(key) + "\n", encoding="ascii")
    print(f"{pub}\nfingerprint {fingerprint_display(key)}")
    return 0


def _load_public(text: str) -> object:
    path = Path(text)
    try:
        if path.is_file():
            return decode_public_key(path.read_text(encoding="ascii").strip())
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{text}: cannot read public key") from exc
    except InvalidKeyError as exc:
        raise CliError(f"{text}: {exc}") from None
    try:
        return decode_public_key(text)
    except InvalidKeyError as exc:
        raise CliError(f"--public-key: not a key file nor a base64url key ({exc})") from None


def _seal(args: argparse.Namespace) -> int:
    public_key = _load_public(args.public_key)
    sources = []
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            raise CliError(f"{name}: not a readable file")
        media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        sources.append(
            SourceFile(
                path=path,
                name=path.name,
                media_type=media,
                copies=args.copies,
                page_ranges=args.page_ranges,
            )
        )
    options = JobOptions(
        color=args.color,
        sides=args.sides,
        media=args.media,
        pages_per_sheet=args.pages_per_sheet,
        orientation=args.orientation,
    )
    out = Path(args.out)
    created = not out.exists()
    try:
        write_bundle(
            out,
            public_key=public_key,  # type: ignore[arg-type]
            job_id=args.job_id,
            sources=sources,
            customer=Customer(name=args.customer, note=args.note),
            options=options,
        )
    except (EnvelopeError, OSError):
        if created:  # remove only a half-written bundle this run created
            shutil.rmtree(out, ignore_errors=True)
        raise
    print(args.out)
    return 0


def _open(args: argparse.Namespace) -> int:
    try:
        key = load_private_key(Path(args.private_key), _passphrase(args.passphrase_file))
    except OSError as exc:
        raise CliError(f"{args.private_key}: cannot read private key ({exc.strerror})") from None
    except InvalidKeyError as exc:
        raise CliError(f"{args.private_key}: {exc}") from None
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CliError(f"{out}: exists and is not a folder")
    parent = out.resolve().parent
    scratch_base = parent if parent.is_dir() and os.access(parent, os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix=".cloudtab-open-", dir=scratch_base) as scratch:
        manifest, plain = open_bundle(Path(args.bundle), key, Path(scratch))
        out.mkdir(parents=True, exist_ok=True)
        taken = {p.name for p in out.iterdir()}
        names = unique_names([f.name for f in manifest.files], taken)
        for src, name in zip(plain, names):
            shutil.move(str(src), out / name)
    public = manifest.to_dict(include_key=False)
    for entry, name in zip(public["files"], names):
        entry["saved_as"] = name
    print(json.dumps(public, ensure_ascii=False, indent=1))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(prog=PROG, description="CloudTab end-to-end envelope tool")
    sub = parser.add_subparsers(dest="command", required=True)
    keygen = sub.add_parser("keygen", help="create a shop key pair")
    keygen.add_argument("--out", required=True, help="folder for shop_key.pem and shop_key.pub")
    keygen.add_argument("--passphrase-file", help="encrypt the private key with this passphrase")
    keygen.set_defaults(func=_keygen)
    seal = sub.add_parser("seal", help="seal files into a bundle folder")
    seal.add_argument("--public-key", required=True, help=".pub file or base64url key")
    seal.add_argument("--job-id", required=True)
    seal.add_argument("--out", required=True, help="bundle folder to create")
    seal.add_argument("--customer", default="")
    seal.add_argument("--note", default="")
    seal.add_argument("--copies", type=int, default=1, help="copies of every file")
    seal.add_argument("--page-ranges", default="", help="pages of every file, e.g. 1-3,5")
    seal.add_argument("--color", choices=COLORS, default="monochrome")
    seal.add_argument("--sides", choices=SIDES, default="one-sided")
    seal.add_argument("--media", choices=MEDIA, default="A4")
    seal.add_argument("--pages-per-sheet", type=int, choices=PAGES_PER_SHEET, default=1)
    seal.add_argument("--orientation", choices=ORIENTATIONS, default="portrait")
    seal.add_argument("files", nargs="+", metavar="FILE")
    seal.set_defaults(func=_seal)
    opener = sub.add_parser("open", help="verify a bundle and write its files")
    opener.add_argument("--private-key", required=True)
    opener.add_argument("--passphrase-file")
    opener.add_argument("--bundle", required=True)
    opener.add_argument("--out", required=True)
    opener.set_defaults(func=_open)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``cloudtab-envelope``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (CliError, EnvelopeError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
    except OSError as exc:
        where = exc.filename if exc.filename is not None else "I/O"
        print(f"{PROG}: error: {where}: {exc.strerror or exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
