"""HTML pages: the landing page, a shop's upload page, and a job's status page.

The pages carry no secret and no inline script: data reaches the scripts through
``data-`` attributes, and everything else is fetched from the JSON API.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from web_bridge import validate
from web_bridge.relay_client import get_client
from web_bridge.serialize import shop_to_dict

bp = Blueprint("pages", __name__)


@bp.get("/")
def landing() -> str:
    """What this site is, for someone who arrives without a shop's QR code."""
    return render_template("landing.html")


@bp.get("/s/<slug>")
def upload_page(slug: str) -> str:
    """The shop's upload page (the URL in the shop's QR code, with ``#k=<key>``).

    Raises: ApiError 404 for a malformed slug, RelayCallError (404 unknown shop,
    503 relay unreachable).
    """
    shop = get_client().get_shop(validate.slug(slug)).shop
    return render_template("upload.html", shop=shop_to_dict(shop), job_id="")


@bp.get("/j/<job_id>")
def status_page(job_id: str) -> str:
    """A job's status page; the token comes from the tab's sessionStorage.

    Raises: ApiError 404 for a malformed job id.
    """
    return render_template("upload.html", shop=None, job_id=validate.job_id(job_id))
