"""Kosli environments as core resources (kind ``kosli.environment``, key = the environment's name).

The resource's ``data`` holds the environment's settings and ``policy_ids``: the ids (not names) of
the policies attached to it, so that renaming a policy keeps its attachments. Only live policies are
shown (``policies`` here, ``consuming_envs`` on a policy); an archived policy's attachments are
suspended and come back if it is unarchived. ``tags`` holds the environment's tags (key -> value) and
``archived`` is true once it is archived: it then leaves the list and the policies' ``consuming_envs``,
and a ``PUT`` of its name brings it back (create-or-update). Pure functions only: the routes do the I/O.
"""

from __future__ import annotations

from typing import Any

from policyhub.errors import FieldError, InvalidInput
from policyhub.evaluation.inputs.attachments import POLICY_IDS, attached_policy_ids
from policyhub.http.compat.kosli import schemas
from policyhub.http.compat.kosli.translate import epoch
from policyhub.storage.repositories.resources import Resource

TAGS = "tags"
ARCHIVED = "archived"


def new_data(req: schemas.KosliEnvironmentPutInput, policy_ids: list[str]) -> dict[str, Any]:
    """The data of a new environment."""
    return {
        "type": req.type,
        "description": req.description,
        "include_scaling": bool(req.include_scaling),
        "require_provenance": bool(req.require_provenance),
        "included_environments": list(req.included_environments or []),
        POLICY_IDS: policy_ids,
    }


def put_data(
    current: dict[str, Any], req: schemas.KosliEnvironmentPutInput, policy_ids: list[str] | None
) -> dict[str, Any]:
    """An existing environment after a PUT: ``null`` (and an empty description) keep the stored value."""
    if req.type != current.get("type"):
        raise InvalidInput.field("type", f"cannot change the type of an environment ({current.get('type')!r})")
    data = dict(current)
    data.pop(ARCHIVED, None)  # a PUT of an archived environment's name brings it back
    if req.description:
        data["description"] = req.description
    for key in ("include_scaling", "require_provenance", "included_environments"):
        value = getattr(req, key)
        if value is not None:
            data[key] = value
    if policy_ids is not None:
        data[POLICY_IDS] = policy_ids
    return data


def patch_data(
    current: dict[str, Any], req: schemas.KosliEnvironmentPatchInput, policy_ids: list[str] | None
) -> dict[str, Any]:
    """An environment after a PATCH: only the fields present change; ``""`` clears the description."""
    present = req.model_fields_set
    if not present:
        raise InvalidInput.field("body", "name at least one field to update")
    data = dict(current)
    for key in ("description", "include_scaling", "included_environments"):
        value = getattr(req, key)
        if key in present and value is not None:
            data[key] = value
    if policy_ids is not None:
        data[POLICY_IDS] = policy_ids
    return data


def check_included(env_type: str, included: list[str], known: dict[str, str]) -> None:
    """``included_environments``: only for logical environments, naming existing physical ones."""
    if not included:
        return
    if env_type != "logical":
        raise InvalidInput.field("included_environments", "only a logical environment can include environments")
    for name in included:
        if name not in known:
            raise InvalidInput.field("included_environments", f"environment {name!r} does not exist")
        if known[name] == "logical":
            raise InvalidInput.field("included_environments", f"{name!r} is a logical environment")


def is_archived(resource: Resource) -> bool:
    return resource.data.get(ARCHIVED) is True


def archived_data(current: dict[str, Any]) -> dict[str, Any]:
    """An environment after ``PUT .../archive`` (archiving an archived one changes nothing)."""
    return {**current, ARCHIVED: True}


def tags_of(data: dict[str, Any]) -> dict[str, str]:
    tags = data.get(TAGS)
    return {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {}


def tagged_data(current: dict[str, Any], req: schemas.KosliTagsPatchInput) -> dict[str, Any]:
    """An environment after a tag ``PATCH``: ``set_tags`` added or updated, then ``remove_tags`` removed
    (a key absent is a no-op); a key in both, or limits exceeded, is a 400 naming the field."""
    to_set = req.set_tags or {}
    to_remove = req.remove_tags or []
    problems = {k: _tag_problem(k, v) for k, v in to_set.items()}
    errors = [FieldError(f"set_tags.{k}", problem) for k, problem in problems.items() if problem]
    errors += [FieldError("remove_tags", f"{k!r} is also in set_tags") for k in to_remove if k in to_set]
    tags = {**tags_of(current), **to_set}
    for key in to_remove:
        tags.pop(key, None)
    if len(tags) > schemas.TAGS_MAX:
        errors.append(FieldError("set_tags", f"an environment has at most {schemas.TAGS_MAX} tags"))
    if errors:
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors[:5]), errors)
    return {**current, TAGS: tags}


def _tag_problem(key: str, value: str) -> str:
    if not key.strip() or len(key) > schemas.TAG_KEY_MAX:
        return f"a tag key is 1 to {schemas.TAG_KEY_MAX} characters, not blank"
    if len(value) > schemas.TAG_VALUE_MAX:
        return f"a tag value is at most {schemas.TAG_VALUE_MAX} characters"
    return ""


def attach(current: list[str], ids: list[str]) -> list[str]:
    return [*current, *(i for i in ids if i not in current)]


def detach(current: list[str], ids: list[str]) -> list[str]:
    return [i for i in current if i not in ids]


def policy_ids(resource: Resource) -> list[str]:
    return attached_policy_ids(resource.data)


def env_response(
    resource: Resource, live_names: dict[str, str], creator: str, org_slug: str
) -> schemas.KosliEnvironmentResponse:
    """The environment as the API shows it; ``live_names`` maps live policy ids to names."""
    data = resource.data
    return schemas.KosliEnvironmentResponse(
        org=org_slug,
        name=resource.key,
        type=str(data.get("type", "")),
        description=str(data.get("description", "")),
        include_scaling=bool(data.get("include_scaling", False)),
        require_provenance=bool(data.get("require_provenance", False)),
        included_environments=list(data.get("included_environments", [])),
        policies=[live_names[i] for i in policy_ids(resource) if i in live_names],
        tags=tags_of(data),
        archived=is_archived(resource),
        created_by=creator,
        created_at=epoch(resource.created_at),
        last_modified_at=epoch(resource.updated_at),
    )
