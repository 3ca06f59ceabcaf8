"""Subresource Integrity for the page: digests of the served static files, computed once.

At start the bridge hashes every file under its static folder (the same digests as the
committed ``docs/static-manifest.json``). Templates use two helpers:

* ``sri(filename)`` -> the ``integrity`` value of one static file (entry ``<script>`` and
  ``<link rel="stylesheet">`` tags);
* ``release.version`` / ``release.static_release`` -> the ``cloudtab-version`` and
  ``cloudtab-static`` meta tags: which release's manifest the page's files must match;
* ``import_map()`` -> the text of a ``<script type="importmap">`` whose ``integrity`` map
  covers every JavaScript module, so modules loaded through ``import`` (static or
  dynamic) are checked by the browser too. Its own SHA-256 is allowed by the CSP
  (``script-src-elem``), the only inline script the page may run.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from flask import Flask, current_app
from markupsafe import Markup

from cloudtab_rpc.version import VERSION
from cloudtab_verify.manifest import build, dumps, file_digests, release_digest, sri

MODULE_SUFFIXES = (".js", ".mjs")


class StaticIntegrity:
    """The static digests of one app and the import map built from them."""

    def __init__(self, folder: Path, url_prefix: str) -> None:
        self.digests = file_digests(folder)
        # The page names its release: the package version and the SHA-256 of its static
        # manifest (= docs/static-manifest.json of that release); cloudtab-verify finds
        # the release's manifest by it.
        self.version = VERSION
        self.static_release = release_digest(dumps(build(folder)))
        modules = {
            f"{url_prefix}{name}": sri(digest)
            for name, digest in self.digests.items()
            if name.endswith(MODULE_SUFFIXES)
        }
        self.import_map = json.dumps({"imports": {}, "integrity": modules}, sort_keys=True)
        digest = hashlib.sha256(self.import_map.encode("utf-8")).digest()
        self.import_map_source = "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"

    def sri(self, filename: str) -> str:
        """The integrity value of static ``filename``.

        Raises:
            KeyError: if the bridge does not serve that file (a template bug).
        """
        return sri(self.digests[filename])


def get_integrity() -> StaticIntegrity:
    """The current app's :class:`StaticIntegrity`."""
    integrity: StaticIntegrity = current_app.extensions["cloudtab_integrity"]
    return integrity


def init_app(app: Flask) -> None:
    """Hash the static folder and register the template helpers ``sri`` and ``import_map``."""
    if app.static_folder is None:
        raise ValueError("the bridge has no static folder")
    prefix = (app.static_url_path or "/static").rstrip("/") + "/"
    integrity = StaticIntegrity(Path(app.static_folder), prefix)
    app.extensions["cloudtab_integrity"] = integrity
    app.jinja_env.globals["sri"] = integrity.sri
    app.jinja_env.globals["import_map"] = lambda: Markup(integrity.import_map)
    app.jinja_env.globals["release"] = integrity
