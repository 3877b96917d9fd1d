"""The ``ai_content`` point sits below the policy types, so the Flashback detectors that mask what the
decision log keeps of a content are given to it (``policy_types.registry.default_points``); without
them the log keeps none of the content, never the content in clear."""

from __future__ import annotations

from policyhub.evaluation.inputs.ai_content import AI_CONTENT
from policyhub.policy_types.registry import default_points

CONTENT = "mail ann@example.com, card 4111 1111 1111 1111"


def test_the_registered_point_masks_what_the_detectors_find() -> None:
    logged = default_points().get("ai_content").log_input({"content": CONTENT, "user": "ann"})
    assert logged["user"] == "ann"
    assert logged["content"].startswith("mail a") and "ann@example.com" not in logged["content"]
    assert "4111 1111 1111 1111" not in logged["content"]


def test_without_a_masker_the_log_keeps_none_of_the_content() -> None:
    assert AI_CONTENT.log_input({"content": CONTENT}) == {"content": f"[withheld: {len(CONTENT)} characters]"}
    assert AI_CONTENT.log_input({"content": 3}) == {"content": 3}  # not text: the input model refuses it
