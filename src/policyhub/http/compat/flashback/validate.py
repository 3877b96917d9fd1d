"""``POST /policy/validate``: how PolicyHub will enforce each policy content, in Flashback's shape.

Flashback scores a policy's wording with a model. PolicyHub answers deterministically, from the same
vocabulary that compiles the policy: which detectors the content activates, which sensitive terms no
detector covers, and whether enforcement depends on the judge. ``score`` is the share PolicyHub
enforces deterministically: 100 (detectors only), 75 or 50 (detectors plus terms only the judge can
check, with or without a judge configured), 50 or 0 (judge only, with or without a judge).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from policyhub.http.compat.flashback import findings_wire, wire
from policyhub.http.deps import ContainerDep, CurrentActor, JsonBody, parse_model
from policyhub.http.deps import require_json_object as json_object
from policyhub.http.openapi import body_schema
from policyhub.policy_types.flashback.vocabulary import Selection, select

router = APIRouter(prefix="/policy", tags=["flashback"], responses=wire.ERROR_RESPONSES)

_SEVERITY = {100: "none", 75: "low", 50: "medium", 0: "high"}


@router.post(
    "/validate",
    response_model=findings_wire.FlashbackPolicyValidationResponse,
    summary="Validate AI Policies (how each content is enforced)",
    openapi_extra=body_schema({"application/json": findings_wire.FlashbackPolicyValidationRequest}),
)
def validate_policies(c: ContainerDep, actor: CurrentActor, body: JsonBody) -> Response:
    req = parse_model(findings_wire.FlashbackPolicyValidationRequest, json_object(body))
    judge = c.decisions.engine.judge is not None
    results = [assess(p.policy_uuid, select(p.content), judge=judge) for p in req.policies]
    return JSONResponse({"results": results})


def assess(policy_uuid: str, selection: Selection, *, judge: bool) -> dict[str, Any]:
    """One ``PolicyValidationResult`` (pure: the selection and whether a judge is configured)."""
    described = selection.describe()
    mode = selection.mode
    issues: list[dict[str, str]] = []
    if mode == "detectors":
        score = 100
        advice = f"Enforced by built-in detectors: {', '.join(selection.detectors)}."
    elif mode == "detectors+judge":
        score = 75 if judge else 50
        names = ", ".join(selection.uncovered)
        advice = f"Enforced by built-in detectors ({', '.join(selection.detectors)}); " + (
            f"content they pass is judged for: {names}."
            if judge
            else f"{names} cannot be checked: no judge is configured."
        )
        issues.append(
            {
                "type": "scope",
                "description": f"No deterministic detector covers: {names}.",
                "suggestion": "Configure a judge (POLICYHUB_JUDGE_URL), or name only data the detectors find.",
            }
        )
    else:
        score = 50 if judge else 0
        advice = (
            "No built-in detector matches this content: every prompt and response is judged by the model."
            if judge
            else "No built-in detector matches this content and no judge is configured: evaluating it is an "
            "error (a blocking policy denies everything; a log or alert policy records the error)."
        )
        issues.append(
            {
                "type": "actionability",
                "description": "The content names nothing a built-in detector can find.",
                "suggestion": "Name the data to stop (e.g. 'credit card numbers', 'API keys', 'email addresses'), "
                "or configure a judge.",
            }
        )
    return {
        "policy_uuid": policy_uuid,
        "score": score,
        "advice": advice,
        "issues": issues,
        "severity": _SEVERITY[score],
        **described,
        "judgeConfigured": judge,
    }
