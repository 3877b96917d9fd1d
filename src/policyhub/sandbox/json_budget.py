"""Moved to :mod:`policyhub.domain.bounded_json` (one module measures and cuts JSON, with one marker
vocabulary). These names stay only until ``evaluation/limits.py`` imports from there; nothing new should
import this module."""

from policyhub.domain.bounded_json import TRUNCATED as MARKER_KEY
from policyhub.domain.bounded_json import estimated_size as json_size
from policyhub.domain.bounded_json import truncated, truncated_text

__all__ = ["MARKER_KEY", "json_size", "truncated", "truncated_text"]
