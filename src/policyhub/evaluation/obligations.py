"""What a rate-limit result tells the enforcement point: the standard obligations."""

from __future__ import annotations

import math
from typing import Any

from policyhub.evaluation.compiled import RateState


def rate_obligation(state: RateState, window_s: float) -> dict[str, Any]:
    """``{"type": "rate_limit", limit, remaining, reset_after_s, retry_after_s, window_s}``."""
    return {
        "type": "rate_limit",
        "limit": state.limit,
        "remaining": state.remaining,
        "reset_after_s": round(state.reset_after_s, 3),
        "retry_after_s": round(state.retry_after_s, 3),
        "window_s": window_s,
    }


def headers_obligation(state: RateState) -> dict[str, Any]:
    """``{"type": "headers", "headers": {X-RateLimit-Limit, -Remaining, -Reset (s)[, Retry-After]}}``."""
    headers = {
        "X-RateLimit-Limit": str(state.limit),
        "X-RateLimit-Remaining": str(state.remaining),
        "X-RateLimit-Reset": str(math.ceil(state.reset_after_s)),
    }
    if not state.allowed:
        headers["Retry-After"] = str(max(1, math.ceil(state.retry_after_s)))
    return {"type": "headers", "headers": headers}
