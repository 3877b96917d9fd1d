"""Core names for Apinizer policies.

An Apinizer policy name is unique per API proxy (and matched case-insensitively); a core name is
unique per org. The core name is ``apinizer.<len(project)>.<len(proxy)>.<project>.<proxy>.<policy>``
with the policy name lower-cased, e.g. ``apinizer.9.5.MyProject.MyAPI.throttling-policy``. The two
lengths make the encoding injective even though names may themselves contain dots. The name as the
client wrote it is kept in ``attributes["apinizer"]["name"]``.
"""

from __future__ import annotations

from policyhub.domain import names
from policyhub.errors import InvalidInput

PREFIX = "apinizer"


def _compose(project: str, proxy: str, policy: str) -> str:
    return f"{PREFIX}.{len(project)}.{len(proxy)}.{project}.{proxy}.{policy.lower()}"


def new_core_name(project: str, proxy: str, policy: str) -> str:
    """The core name for a policy being added; 400 (on ``policyName``) if the name cannot be stored."""
    names.policy_name(policy, field="policyName")
    core = _compose(project, proxy, policy)
    if len(core) > names.NAME_MAX:
        room = names.NAME_MAX - len(_compose(project, proxy, ""))
        raise InvalidInput.field("policyName", f"must be at most {max(room, 0)} characters in this API proxy")
    return core


def core_name(project: str, proxy: str, policy: str) -> str | None:
    """The core name of an existing policy, or None when no policy can have this name."""
    try:
        return new_core_name(project, proxy, policy)
    except InvalidInput:
        return None


def policy_part(core: str) -> str | None:
    """The (lower-cased) policy name inside a core name made by :func:`new_core_name`, else None."""
    head, _, rest = core.partition(".")
    project_len, _, rest = rest.partition(".")
    proxy_len, _, rest = rest.partition(".")
    if head != PREFIX or not (project_len.isdigit() and proxy_len.isdigit()):
        return None
    skip = int(project_len) + int(proxy_len) + 2
    return rest[skip:] if len(rest) > skip else None
