"""A decision's budgets: how long its policies may take, and how much its answer may say.

Evaluators run tenant-written policies against tenant-sent inputs, so both the time a decision takes and
the size of what it answers are bounded here, once, for every policy type:

- **time**: a deadline per decision across its policies (``POLICYHUB_DECISION_DEADLINE_S``). A policy
  not evaluated when it has passed gets an evaluation error, "decision deadline exceeded", which denies
  whatever the policy's enforcement or fail-open setting (the decision is incomplete: never an allow).
  Evaluators that loop over the input check it as they go (:meth:`Evaluation.check_deadline`).
- **size**: each result keeps at most ``max_reasons`` reasons of at most ``max_reason_bytes`` each, and
  details of about ``max_details_bytes`` as JSON; the results of one decision share ``max_response_bytes``
  (once spent, later results keep their verdict, one short reason and a marker). What is cut is marked
  (:mod:`policyhub.domain.bounded_json`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from policyhub.domain.bounded_json import TRUNCATED, estimated_size, truncated, truncated_text

#: A reason this short is within any byte budget whatever its characters (4 bytes each at most).
_SHORT_REASON = 256
#: What a result costs the response beyond its reasons and details (ids, names, verdict).
_RESULT_OVERHEAD = 320
#: Once the response budget is spent: what a later result's one reason may still say.
_SPENT_REASON_BYTES = 200


class DeadlineExceeded(Exception):
    """The decision's deadline passed before this policy was (fully) evaluated: it denies."""


@dataclass(frozen=True, slots=True)
class DecisionLimits:
    deadline_s: float = 2.0
    max_reasons: int = 100
    max_reason_bytes: int = 1024
    max_details_bytes: int = 16 * 1024
    max_response_bytes: int = 1024 * 1024


class ResponseBudget:
    """What one decision's results may still say (one per decision, used by the evaluating thread)."""

    __slots__ = ("left", "limits")

    def __init__(self, limits: DecisionLimits) -> None:
        self.limits = limits
        self.left = limits.max_response_bytes

    def bound(
        self, reasons: list[str], details: dict[str, Any], bounded: bool = False
    ) -> tuple[list[str], dict[str, Any]]:
        """``reasons`` and ``details`` within the per-result caps and what is left of the response's;
        the same objects when they fit (the common case costs a short walk over small values).
        ``bounded``: the evaluator bounds its details itself, so serialising them to measure is cheap."""
        left = self.left
        if left <= 0:
            return self._spent(reasons, details)
        if len(reasons) == 1 and len(reasons[0]) <= _SHORT_REASON:  # the common case
            size = _RESULT_OVERHEAD + 4 + len(reasons[0])
        else:
            size = _reasons_size(reasons)
            if size < 0 or len(reasons) > self.limits.max_reasons or size > left:
                reasons, size = _bounded_reasons(reasons, self.limits, left)
        if details:
            measured: int | None
            if bounded:
                measured = _exact_size(details)
            else:  # details made only of short scalars (what most evaluators return): counted here, inline
                measured = 2 + 6 * len(details)
                for key, value in details.items():
                    kind = type(value)
                    if kind is str and len(value) <= _SHORT_REASON:
                        measured += len(key) + len(value)
                    elif kind is int or kind is bool or kind is float or value is None:
                        measured += len(key) + 8
                    else:
                        measured = None
                        break
            cap = self.limits.max_details_bytes
            if measured is None or measured > cap or measured > left - size:
                cap = min(cap, max(0, left - size))
                measured = estimated_size(details, cap)
                if measured > cap:
                    details = _bounded_details(details, cap, measured)
                    measured = estimated_size(details, 2 * cap)
            size += measured
        self.left = left - size
        return reasons, details

    def _spent(self, reasons: list[str], details: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
        limit = self.limits.max_response_bytes
        kept = [truncated_text(reasons[0], _SPENT_REASON_BYTES)] if reasons else []
        if len(reasons) > 1:
            more = len(reasons) - 1
            kept.append(f"… [truncated: {more} more reason(s): the decision's answer is over {limit} bytes]")
        marker = {TRUNCATED: f"details left out: the decision's answer is over {limit} bytes"}
        return kept, (marker if details else details)


def _reasons_size(reasons: list[str]) -> int:
    """Their size with a result's overhead, or -1 when one is long enough to need measuring in bytes."""
    size = _RESULT_OVERHEAD
    for reason in reasons:
        if len(reason) > _SHORT_REASON:
            return -1
        size += len(reason) + 4
    return size


def _bounded_reasons(reasons: list[str], limits: DecisionLimits, left: int) -> tuple[list[str], int]:
    """At most ``max_reasons`` reasons of at most ``max_reason_bytes`` each, as many as ``left`` bytes hold
    (always the first), and a last one saying how many were left out; with their size."""
    kept: list[str] = []
    size = _RESULT_OVERHEAD
    for reason in reasons[: limits.max_reasons]:
        reason = truncated_text(reason, limits.max_reason_bytes)
        cost = len(reason.encode("utf-8", "replace")) + 4
        if kept and size + cost > left:
            break
        kept.append(reason)
        size += cost
    if len(kept) < len(reasons):
        if len(kept) == limits.max_reasons:
            kept.pop()
        kept.append(f"… [truncated: {len(reasons) - len(kept)} more reason(s)]")
        size += 40
    return kept, size


def _bounded_details(details: dict[str, Any], cap: int, measured: int) -> dict[str, Any]:
    copy = truncated(details, cap)
    copy = copy if isinstance(copy, dict) else {}
    copy[TRUNCATED] = f"details cut to {cap} bytes (they were over {measured})"
    return copy


def _exact_size(details: dict[str, Any]) -> int | None:
    try:
        return len(orjson.dumps(details))
    except (TypeError, orjson.JSONEncodeError):
        return None
