"""Flashback's org / workspace / repo levels as core scopes.

A workspace is a core scope of kind ``workspace``; a repository is a scope of kind ``repo`` whose
parent is its workspace. ``workspaceId`` and ``repoId`` are those scopes' ids. A policy's core scope
is the repo if given, else the workspace, else none (the org). Scopes are created with the core API
(``POST /v1/orgs/{org}/scopes``); reads go through :class:`ScopeService`, so a key bound to one
workspace cannot resolve (or learn of) another: to it, that id is as unknown as a made-up one.
"""

from __future__ import annotations

from policyhub.domain.ids import is_canonical_uuid
from policyhub.domain.records import Actor, Policy, Scope
from policyhub.errors import InvalidInput, NotFound
from policyhub.services.scopes import ScopeService
from policyhub.storage.unit_of_work import UnitOfWork

WORKSPACE = "workspace"
REPO = "repo"


class Levels:
    """Resolves level ids for one actor within one unit of work (caching the scopes it reads)."""

    def __init__(self, scopes: ScopeService, uow: UnitOfWork, actor: Actor) -> None:
        self._scopes = scopes
        self._uow = uow
        self._actor = actor
        self._cache: dict[str, Scope | None] = {}

    def target(self, workspace_id: str | None, repo_id: str | None) -> Scope | None:
        """The scope a (workspaceId, repoId) pair names; 400 when unknown or inconsistent."""
        if repo_id is not None and workspace_id is None:
            raise InvalidInput.field("repoId", "a repository policy needs the workspaceId of its workspace")
        if workspace_id is None:
            return None
        workspace = self._of_kind(workspace_id, WORKSPACE, "workspaceId")
        if repo_id is None:
            return workspace
        repo = self._of_kind(repo_id, REPO, "repoId")
        if repo.parent_id != workspace.id:
            raise InvalidInput.field("repoId", "the repository does not belong to the specified workspace")
        return repo

    def of_policy(self, policy: Policy) -> tuple[Scope | None, Scope | None]:
        """The (workspace, repo) a policy is attached to; (None, None) at the org level."""
        scope = self._get(policy.scope_id) if policy.scope_id else None
        if scope is None:
            return None, None
        if scope.kind == REPO:
            parent = self._get(scope.parent_id) if scope.parent_id else None
            return (parent if parent is not None and parent.kind == WORKSPACE else None), scope
        return (scope, None) if scope.kind == WORKSPACE else (None, None)

    def _of_kind(self, ref: str, kind: str, field: str) -> Scope:
        scope = self._get(ref) if is_canonical_uuid(ref) else None
        if scope is None or scope.id != ref or scope.kind != kind:
            raise InvalidInput.field(field, f"{kind} {ref!r} not found in this organization")
        return scope

    def _get(self, scope_id: str) -> Scope | None:
        if scope_id not in self._cache:
            try:
                self._cache[scope_id] = self._scopes.get(self._uow, self._actor, scope_id)
            except NotFound:
                self._cache[scope_id] = None
        return self._cache[scope_id]
