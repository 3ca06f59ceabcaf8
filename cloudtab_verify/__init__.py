"""Check that a deployed CloudTab page serves exactly the static files of a release.

``manifest`` computes the SHA-256 of every static file the bridge serves (the committed
``docs/static-manifest.json``); ``cli`` is ``cloudtab-verify URL``, which fetches a page
and every script, style sheet and module it references and compares them with it.
"""
