"""Kosli environments as core resources (kind ``kosli.environment``, key = the environment's name).

The resource's ``data`` holds the environment's settings and ``policy_ids``: the ids (not names) of
the policies attached to it, so that renaming a policy keeps its attachments. Only live policies are
shown (``policies`` here, ``consuming_envs`` on a policy); an archived policy's attachments are
suspended and come back if it is unarchived. Pure functions only: the routes do the I/O.
"""

from __future__ import annotations

from typing import Any

from policyhub.errors import InvalidInput
from policyhub.http.compat.kosli import schemas
from policyhub.http.compat.kosli.translate import epoch
from policyhub.policy_types.kosli.attachments import POLICY_IDS, attached_policy_ids
from policyhub.storage.repositories.resources import Resource


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


def attach(current: list[str], ids: list[str]) -> list[str]:
    return [*current, *(i for i in ids if i not in current)]


def detach(current: list[str], ids: list[str]) -> list[str]:
    return [i for i in current if i not in ids]


def policy_ids(resource: Resource) -> list[str]:
    return attached_policy_ids(resource.data)


def env_response(resource: Resource, live_names: dict[str, str], creator: str) -> schemas.KosliEnvironmentResponse:
    """The environment as the API shows it; ``live_names`` maps live policy ids to names."""
    data = resource.data
    return schemas.KosliEnvironmentResponse(
        name=resource.key,
        type=str(data.get("type", "")),
        description=str(data.get("description", "")),
        include_scaling=bool(data.get("include_scaling", False)),
        require_provenance=bool(data.get("require_provenance", False)),
        included_environments=list(data.get("included_environments", [])),
        policies=[live_names[i] for i in policy_ids(resource) if i in live_names],
        created_by=creator,
        created_at=epoch(resource.created_at),
        last_modified_at=epoch(resource.updated_at),
    )
