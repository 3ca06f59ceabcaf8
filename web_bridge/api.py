"""JSON API of the upload page: shops, job creation, submit, cancel, state, QR.

Every job route needs the customer token as ``Authorization: Bearer``; the page keeps
it in the tab's sessionStorage and never puts it in a URL. Transfers and live events
are in :mod:`web_bridge.transfer`.
"""

from __future__ import annotations

import io

import segno
from flask import Blueprint, Response, current_app, jsonify, request

from web_bridge import validate
from web_bridge.errors import ApiError
from web_bridge.limits import SizeLimits, check_job_sizes, shop_cache
from web_bridge.relay_client import get_client
from web_bridge.serialize import job_to_dict, shop_to_dict

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_SEALED_MANIFEST = 64 * 1024


def _limits_of(slug: str) -> SizeLimits:
    cached = shop_cache().get(slug)
    if cached is not None:
        return cached
    shop = get_client().get_shop(slug).shop
    limits = SizeLimits(
        max_file_bytes=shop.limits.max_file_bytes,
        max_job_bytes=shop.limits.max_job_bytes,
        max_files_per_job=shop.limits.max_files_per_job,
    )
    shop_cache().put(slug, limits)
    return limits


@bp.get("/shops/<slug>")
def get_shop(slug: str) -> Response:
    """The shop's public profile. Raises: ApiError 404, RelayCallError."""
    response = get_client().get_shop(validate.slug(slug))
    return jsonify(shop_to_dict(response.shop))


@bp.post("/jobs")
def create_job() -> tuple[Response, int]:
    """Create a job: ``{"shop", "file_sizes", "key_fingerprint"}`` (sizes of ciphertext).

    Raises: ApiError 400/413/415, RelayCallError (404 unknown shop, 409 key changed).
    """
    body = validate.json_object()
    slug = validate.slug(str(body.get("shop", "")))
    sizes = validate.file_sizes(body.get("file_sizes"))
    fingerprint = validate.fingerprint(body.get("key_fingerprint"))
    check_job_sizes(_limits_of(slug), sizes)
    created = get_client().create_job(slug, sizes, fingerprint)
    payload = {
        "job": job_to_dict(created.job),
        "customer_token": created.customer_token,
        "record_size": created.record_size,
        "upload_expire_time": (
            created.upload_expire_time.ToJsonString() if created.HasField("upload_expire_time") else None
        ),
        "max_chunk_bytes": int(current_app.config["MAX_UPLOAD_CHUNK_BYTES"]),
    }
    return jsonify(payload), 201


@bp.get("/jobs/<job_id>")
def get_job(job_id: str) -> Response:
    """The job's state. Raises: ApiError 401/404, RelayCallError."""
    job = get_client().get_job(validate.bearer_token(), validate.job_id(job_id)).job
    return jsonify({"job": job_to_dict(job)})


@bp.post("/jobs/<job_id>/submit")
def submit_job(job_id: str) -> Response:
    """Submit with the sealed manifest: raw bytes, or JSON ``{"sealed_manifest": b64url}``.

    Raises: ApiError 400/401/404/413/415, RelayCallError (409 files incomplete).
    """
    job_id = validate.job_id(job_id)
    token = validate.bearer_token()
    if request.mimetype == "application/octet-stream":
        sealed = request.get_data(cache=False)
    else:
        sealed = validate.b64url_bytes(validate.json_object().get("sealed_manifest"), "sealed_manifest")
    if not sealed:
        raise ApiError(400, "bad_request", "The sealed manifest is missing.")
    if len(sealed) > MAX_SEALED_MANIFEST:
        raise ApiError(413, "too_large", "The job description is too large.")
    job = get_client().submit_job(token, job_id, sealed).job
    return jsonify({"job": job_to_dict(job)})


@bp.post("/jobs/<job_id>/cancel")
def cancel_job(job_id: str) -> Response:
    """Withdraw the job. Raises: ApiError 401/404, RelayCallError (409 finished)."""
    job = get_client().cancel_job(validate.bearer_token(), validate.job_id(job_id)).job
    return jsonify({"job": job_to_dict(job)})


@bp.get("/qr/<code>.svg")
def job_code_qr(code: str) -> Response:
    """The job code as a QR code (SVG). The code is not a secret: it opens nothing.

    Raises: ApiError 404 for something that is not a job code.
    """
    if not validate.JOB_CODE_RE.fullmatch(code):
        raise ApiError(404, "not_found", "This page does not exist.")
    buffer = io.BytesIO()
    segno.make(code, error="m").save(buffer, kind="svg", scale=8, border=2, xmldecl=False)
    response = Response(buffer.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
