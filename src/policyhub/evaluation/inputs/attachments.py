"""Where Kosli keeps which policies apply to an environment.

An environment is a core resource of kind ``kosli.environment`` (key = its name) whose ``data`` holds
``policy_ids``: the ids of the policies attached to it, in attachment order (ids, not names, so that a
rename keeps the attachment). The Kosli dialect writes them; the ``environment`` decision point reads
them to select the policies of an environment.
"""

from __future__ import annotations

from typing import Any

ENVIRONMENT_KIND = "kosli.environment"
POLICY_IDS = "policy_ids"


def attached_policy_ids(data: dict[str, Any]) -> list[str]:
    """The attached policy ids of an environment's ``data`` (tolerates a malformed value: none attached)."""
    ids = data.get(POLICY_IDS, [])
    return [str(i) for i in ids] if isinstance(ids, list) else []
