"""How evaluators name their rate-limit counters (the stores are :mod:`policyhub.engine.ratelimit`)."""

from __future__ import annotations

import hashlib

MAX_IDENTITY_CHARS = 200


def counter_key(org_id: str, policy_id: str, rule: str, identity: str) -> str:
    """``<org>:<policy>:<rule>:<identity>``: orgs and policies never share a counter.

    ``rule`` names the limit within the policy (``-`` for the main one, ``d<hash>`` for an override)
    and must not contain ``:``; the identity comes last, so the key is unambiguous whatever it holds.
    The limit itself is not part of the key: changing it keeps the counts (and touches no other
    policy's). A long identity is replaced by its SHA-256.
    """
    if len(identity) > MAX_IDENTITY_CHARS:
        identity = "sha256=" + hashlib.sha256(identity.encode()).hexdigest()
    return f"{org_id}:{policy_id}:{rule}:{identity}"
