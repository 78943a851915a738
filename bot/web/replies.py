"""JSON answers shared by the blueprints: one plain sentence under "error"."""
from __future__ import annotations

from flask import Response, jsonify


def error(status: int, sentence: str, retry_after: int | None = None, **extra: object) -> Response:
    resp = jsonify({"error": sentence, **extra})
    resp.status_code = status
    if retry_after is not None:
        resp.headers["Retry-After"] = str(retry_after)
    return resp
