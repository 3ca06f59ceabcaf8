"""``cloudtab-verify URL``: does a deployed page run exactly the code of a release?

It reads the release the page names (``<meta name="cloudtab-version">`` and
``<meta name="cloudtab-static" content="sha256:...">``, the SHA-256 of that release's
``docs/static-manifest.json``), finds that manifest among the tags and commits of a git
checkout (``--repo``, default the current folder; or takes ``--manifest FILE``), then
fetches every script and style sheet the page names, every module those scripts
import (``import ... from``, ``import "..."``, ``export ... from``, ``import("...")``)
and every module of the page's import map, and compares each with the static manifest
(``docs/static-manifest.json`` of the release). It also checks that the page's
integrity attributes and import map carry the manifest's digests, and that the page
has no other inline script. It prints one line per file and exits 1 when anything
differs, 2 when the page cannot be fetched.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from cloudtab_verify import manifest as manifest_mod

IMPORT_PATTERNS = (
    re.compile(r"""\b(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']"""),
    re.compile(r"""\bimport\s*["']([^"']+)["']"""),
    re.compile(r"""\bimport\(\s*["']([^"']+)["']\s*\)"""),
)
FETCH_TIMEOUT = 20.0
MAX_BYTES = 32 * 1024 * 1024


@dataclass
class PageRefs:
    """What the page asks the browser to load."""

    entries: list[tuple[str, str | None]] = field(default_factory=list)  # (url, integrity)
    inline_scripts: list[tuple[str, str]] = field(default_factory=list)  # (type, text)
    version: str = ""  # <meta name="cloudtab-version">
    static_release: str = ""  # hex SHA-256 of <meta name="cloudtab-static" content="sha256:...">


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs = PageRefs()
        self._inline: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            if values.get("src"):
                self.refs.entries.append((values["src"] or "", values.get("integrity")))
            else:
                self._inline = (values.get("type") or "", [])
        elif tag == "link" and "stylesheet" in (values.get("rel") or "").split() and values.get("href"):
            self.refs.entries.append((values["href"] or "", values.get("integrity")))
        elif tag == "meta" and values.get("name") == "cloudtab-version":
            self.refs.version = (values.get("content") or "").strip()
        elif tag == "meta" and values.get("name") == "cloudtab-static":
            self.refs.static_release = (values.get("content") or "").strip().removeprefix("sha256:").lower()

    def handle_data(self, data: str) -> None:
        if self._inline is not None:
            self._inline[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._inline is not None:
            self.refs.inline_scripts.append((self._inline[0], "".join(self._inline[1])))
            self._inline = None


def parse_page(html: str) -> PageRefs:
    """The scripts, style sheets and inline scripts of a page."""
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser.refs


def module_imports(source: str) -> list[str]:
    """Relative or absolute-path module specifiers a JavaScript module imports."""
    found: list[str] = []
    for pattern in IMPORT_PATTERNS:
        for match in pattern.finditer(source):
            specifier = match.group(1)
            if specifier.startswith(("./", "../", "/")) and specifier not in found:
                found.append(specifier)
    return found


def fetch(url: str) -> bytes:
    """The body of ``url``.

    Raises:
        OSError: (urllib.error.URLError) if it cannot be fetched.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "cloudtab-verify"})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:
        return bytes(response.read(MAX_BYTES + 1))


@dataclass
class Report:
    """One line per checked file or finding; ``problems`` counts the bad ones."""

    lines: list[str] = field(default_factory=list)
    problems: int = 0
    checked: int = 0

    def ok(self, text: str) -> None:
        self.lines.append(f"ok       {text}")
        self.checked += 1

    def bad(self, text: str) -> None:
        self.lines.append(f"DIFFERS  {text}")
        self.problems += 1


def verify(
    page_url: str, files: dict[str, str], prefix: str = manifest_mod.STATIC_URL_PREFIX, refs: PageRefs | None = None
) -> Report:
    """Compare the page at ``page_url`` (or its already parsed ``refs``) and all the code
    it loads with ``files``.

    Raises:
        OSError: if the page itself cannot be fetched.
    """
    report = Report()
    origin = urlsplit(page_url)
    if refs is None:
        refs = parse_page(fetch(page_url).decode("utf-8", "replace"))

    def manifest_name(url: str) -> str | None:
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc) or not parts.path.startswith(prefix):
            return None
        return parts.path[len(prefix) :]

    queue: deque[str] = deque()
    for src, integrity in refs.entries:
        url = urljoin(page_url, src)
        name = manifest_name(url)
        if name is None or name not in files:
            report.bad(f"{url}: not a file of the release")
            continue
        if integrity != manifest_mod.sri(files[name]):
            report.bad(f"{name}: the page's integrity attribute is {integrity!r}, not the release's")
        queue.append(url)
    for kind, text in refs.inline_scripts:
        if kind != "importmap":
            report.bad(f"inline <script type={kind or 'text/javascript'!r}> in the page: not part of the release")
            continue
        try:
            integrity_map = json.loads(text).get("integrity", {})
        except (ValueError, AttributeError):
            report.bad("the page's import map is not valid JSON")
            continue
        for key, value in integrity_map.items():
            url = urljoin(page_url, key)
            name = manifest_name(url)
            if name is None or name not in files:
                report.bad(f"{url}: in the import map but not a file of the release")
            elif value != manifest_mod.sri(files[name]):
                report.bad(f"{name}: the import map's integrity is not the release's")
            else:
                queue.append(url)

    seen: set[str] = set()
    while queue:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        name = manifest_name(url)
        if name is None or name not in files:
            report.bad(f"{url}: imported but not a file of the release")
            continue
        try:
            body = fetch(url)
        except OSError as exc:
            report.bad(f"{name}: cannot be fetched ({exc})")
            continue
        digest = hashlib.sha256(body).hexdigest()
        if digest != files[name]:
            report.bad(f"{name}: served SHA-256 {digest}, release has {files[name]}")
        else:
            report.ok(name)
        if name.endswith((".js", ".mjs")):
            for specifier in module_imports(body.decode("utf-8", "replace")):
                queue.append(urljoin(url, specifier))
    return report


MANIFEST_PATH = "docs/static-manifest.json"
MAX_COMMITS = 5000


def _git(repo: Path, *args: str) -> bytes | None:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def find_release(repo: Path, static_release: str, version: str = "") -> tuple[str, bytes] | None:
    """The commit of ``repo`` whose ``docs/static-manifest.json`` the page names: (a
    description of it, the manifest's bytes), or None.

    Tags ``v<version>`` / ``<version>`` are tried first, then every commit that changed the
    manifest (newest first, at most 5,000), on all branches and tags.
    """
    refs: list[str] = [f"refs/tags/v{version}", f"refs/tags/{version}"] if version else []
    history = _git(repo, "log", "--all", f"-n{MAX_COMMITS}", "--format=%H", "--", MANIFEST_PATH) or b""
    refs += history.decode("ascii", "replace").split()
    for ref in refs:
        data = _git(repo, "show", f"{ref}:{MANIFEST_PATH}")
        if data is not None and manifest_mod.release_digest(data) == static_release:
            described = _git(repo, "log", "-1", "--format=%h %s", ref) or ref.encode()
            return described.decode("utf-8", "replace").strip()[:100], data
    return None


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``cloudtab-verify``."""
    parser = argparse.ArgumentParser(
        prog="cloudtab-verify",
        description="Check that a deployed CloudTab page serves exactly the static files of the release it names.",
    )
    parser.add_argument("url", help="the page to check, e.g. https://print.example/s/myshop")
    parser.add_argument(
        "--manifest",
        type=Path,
        help="compare with this static manifest instead of finding the page's release in a checkout",
    )
    parser.add_argument(
        "--repo",
        type=Path,
        default=Path("."),
        help="a git checkout of CloudTab whose tags and commits hold the releases' manifests (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        refs = parse_page(fetch(args.url).decode("utf-8", "replace"))
    except (OSError, urllib.error.URLError) as exc:
        print(f"cloudtab-verify: cannot fetch {args.url}: {exc}", file=sys.stderr)
        return 2
    named = f"sha256:{refs.static_release}" if refs.static_release else "no release"
    print(f"page     version {refs.version or '?'}, static files {named}")
    mismatch = ""
    if args.manifest is not None:
        try:
            data = args.manifest.read_bytes()
            files = manifest_mod.parse(data, str(args.manifest))
        except (OSError, ValueError) as exc:
            print(f"cloudtab-verify: cannot read the manifest: {exc}", file=sys.stderr)
            return 2
        if refs.static_release and manifest_mod.release_digest(data) != refs.static_release:
            mismatch = f"the page names static files {named}, not those of {args.manifest}"
        print(f"release  {args.manifest}")
    else:
        if not refs.static_release:
            print("cloudtab-verify: the page does not name its release; give --manifest", file=sys.stderr)
            return 2
        found = find_release(args.repo, refs.static_release, refs.version)
        if found is None:
            print(f"DIFFERS  the page names static files {named}, which no commit of {args.repo} has")
            return 1
        description, data = found
        files = manifest_mod.parse(data, description)
        print(f"release  {description}")
    report = verify(args.url, files, refs=refs)
    if mismatch:
        report.bad(mismatch)
    for line in report.lines:
        print(line)
    if report.problems:
        print(f"{report.problems} file(s) differ from the release; {report.checked} match.")
        return 1
    print(f"all {report.checked} files match the release.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
