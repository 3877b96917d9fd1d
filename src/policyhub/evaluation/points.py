"""Decision points: the kinds of enforcement point that ask for decisions, with their input models.

A point names the input it accepts (a strict Pydantic model, so a typo is a 400 naming the field) and
how the policies that apply are selected. The default selection is by scope: the policies attached at
the requested scope and at each of its ancestors, org level included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from policyhub.domain.redaction import Rule, redacted
from policyhub.errors import InvalidInput

if TYPE_CHECKING:
    from policyhub.evaluation.snapshot import Entry, OrgSnapshot


@dataclass(frozen=True)
class DecisionPoint:
    """One kind of enforcement point (``http_request``, ``environment``, ``lifecycle_gate``, ``ai_content``)."""

    name: str
    description: str
    input_model: type[BaseModel]
    #: What the decision log keeps of an input in its ``redacted`` mode: an allow-list declared next to
    #: the input model (anything it does not name is redacted; nothing by default).
    log_fields: Rule = redacted

    def parse(self, data: Any) -> BaseModel:
        """The validated input; bad input is a 400 naming each field under ``input``."""
        if not isinstance(data, dict):
            raise InvalidInput.field("input", "must be a JSON object")
        try:
            return self.input_model.model_validate(data)
        except ValidationError as exc:
            raise InvalidInput.from_pydantic(exc, "input") from None

    def select(self, snapshot: OrgSnapshot, scope_path: str | None, parsed: BaseModel) -> Sequence[Entry]:
        """The candidate policies, most general scope first (org level, then down to ``scope_path``)."""
        return snapshot.at_scope(self.name, scope_path)

    def off_loop(self, data: Any) -> bool:
        """Whether parsing and evaluating this input (as sent) may take long enough (up to the decision
        deadline) to run on a worker thread rather than the event loop, where it would hold every other
        org's requests."""
        return False

    def log_input(self, data: Any) -> Any:
        """What the decision log may keep of an input (before its own redaction); a point whose input
        carries free text (``ai_content``) masks what must never be stored in clear."""
        return data


class PointRegistry:
    def __init__(self, points: list[DecisionPoint]) -> None:
        self._points = {p.name: p for p in points}

    def get(self, name: Any) -> DecisionPoint:
        point = self._points.get(name) if isinstance(name, str) else None
        if point is None:
            raise InvalidInput.field("point", f"unknown decision point {name!r}; supported: {', '.join(self.names())}")
        return point

    def names(self) -> list[str]:
        return sorted(self._points)
