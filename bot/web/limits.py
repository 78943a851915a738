"""Limits every HTTP request obeys."""
from __future__ import annotations

MAX_BODY = 1024 * 1024  # bytes a request body may have; more -> 413
MAX_BODY_TEXT = "1 MB"
