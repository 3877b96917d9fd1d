"""Projects and API proxies (core scopes) and environments (core resources), as Apinizer names them.

A project is a scope of kind ``apinizer_project`` at the org level (key = project name); an API
proxy is a child scope of kind ``api_proxy`` (key = proxy name, path ``<project>/<proxy>``). A
proxy's endpoints are fixed at creation and kept in its ``attributes["apinizer"]["endpointList"]``.
Policies of a proxy are core policies at the proxy's scope. Environments are resources of kind
``apinizer.environment`` keyed by name.
"""

from __future__ import annotations

from dataclasses import dataclass

from policyhub.domain import names
from policyhub.domain.records import Actor, Policy, Scope
from policyhub.errors import FieldError, InvalidInput, NotFound
from policyhub.http.compat.apinizer import errors
from policyhub.http.compat.apinizer.schemas import ApiProxyIn, EnvironmentIn, ProjectIn
from policyhub.http.compat.apinizer.translate import ENVIRONMENT_KIND, PROJECT_KIND, PROXY_KIND
from policyhub.http.deps import Container
from policyhub.policy_types.apinizer import APINIZER_PREFIX
from policyhub.storage.repositories.policies import PolicyFilter
from policyhub.storage.repositories.resources import Resource
from policyhub.storage.unit_of_work import UnitOfWork

PAGE = 500


@dataclass
class ProxyView:
    """A proxy with its project and its live Apinizer policies, read in the current unit of work."""

    project: Scope
    proxy: Scope
    policies: list[Policy]

    def find(self, core_name: str | None) -> Policy | None:
        return next((p for p in self.policies if p.name == core_name), None)


def _scope(c: Container, uow: UnitOfWork, actor: Actor, path: str, kind: str) -> Scope | None:
    try:
        scope = c.scopes.get(uow, actor, path)
    except NotFound:
        return None
    return scope if scope.kind == kind and scope.path == path else None


def find_project(c: Container, uow: UnitOfWork, actor: Actor, name: str) -> Scope:
    """The project named ``name``; 404 ``Project 'X' not found`` when absent or not visible to the key."""
    project = _scope(c, uow, actor, name, PROJECT_KIND)
    if project is None:
        raise errors.project_missing(name)
    return project


def load(c: Container, uow: UnitOfWork, actor: Actor, project_name: str, proxy_name: str) -> ProxyView:
    """The proxy and its policies; 404 for a missing project or proxy (Apinizer's texts)."""
    project = find_project(c, uow, actor, project_name)
    proxy = _scope(c, uow, actor, f"{project.path}/{proxy_name}", PROXY_KIND)
    if proxy is None:
        raise errors.proxy_missing(proxy_name)
    return ProxyView(project, proxy, live_policies(c, uow, actor, proxy))


def live_policies(c: Container, uow: UnitOfWork, actor: Actor, proxy: Scope) -> list[Policy]:
    """Every live Apinizer policy attached at the proxy's scope."""
    found: list[Policy] = []
    after: tuple[str, str] | None = None
    while True:
        page = c.policies.list(uow, actor, PolicyFilter(scope_path=proxy.path, after=after), PAGE)
        found += [p for p in page if p.scope_path == proxy.path and p.type.startswith(APINIZER_PREFIX)]
        if len(page) < PAGE:
            return found
        after = (page[-1].name, page[-1].id)


# -- management --------------------------------------------------------------------------------------
def create_project(c: Container, uow: UnitOfWork, actor: Actor, data: ProjectIn) -> Scope:
    key = names.scope_key(data.name, field="name")
    attributes = {"apinizer": {"description": data.description}}
    return c.scopes.create(uow, actor, kind=PROJECT_KIND, key=key, name=key, attributes=attributes)


def list_projects(c: Container, uow: UnitOfWork, actor: Actor) -> list[Scope]:
    return [s for s in c.scopes.list(uow, actor, kind=PROJECT_KIND) if "/" not in s.path]


def create_proxy(c: Container, uow: UnitOfWork, actor: Actor, project_name: str, data: ApiProxyIn) -> Scope:
    """Create a proxy with its endpoints; (endpoint, httpMethod) pairs must be unique."""
    project = find_project(c, uow, actor, project_name)
    key = names.scope_key(data.name, field="name")
    seen: set[tuple[str, str]] = set()
    for index, endpoint in enumerate(data.endpointList):
        pair = (endpoint.endpoint, endpoint.httpMethod)
        if pair in seen:
            field = f"endpointList.{index}"
            raise InvalidInput(f"{field}: duplicate endpoint {pair[1]} {pair[0]}", [FieldError(field, "duplicate")])
        seen.add(pair)
    attributes = {
        "apinizer": {
            "description": data.description,
            "type": data.type,
            "relativePath": data.relativePath or f"/{key}",
            "endpointList": [e.model_dump() for e in data.endpointList],
        }
    }
    return c.scopes.create(uow, actor, kind=PROXY_KIND, key=key, name=key, parent=project.path, attributes=attributes)


def list_proxies(c: Container, uow: UnitOfWork, actor: Actor, project_name: str) -> list[Scope]:
    project = find_project(c, uow, actor, project_name)
    found = c.scopes.list(uow, actor, under=project.path, kind=PROXY_KIND)
    return [s for s in found if s.parent_id == project.id]


def find_proxy(c: Container, uow: UnitOfWork, actor: Actor, project_name: str, proxy_name: str) -> Scope:
    """The proxy (without its policies); 404 in Apinizer's words for a missing project or proxy."""
    project = find_project(c, uow, actor, project_name)
    proxy = _scope(c, uow, actor, f"{project.path}/{proxy_name}", PROXY_KIND)
    if proxy is None:
        raise errors.proxy_missing(proxy_name)
    return proxy


def create_environment(c: Container, uow: UnitOfWork, actor: Actor, data: EnvironmentIn) -> Resource:
    fields = {"description": data.description, "type": data.type, "accessUrl": data.accessUrl}
    return c.resources.create(uow, actor, ENVIRONMENT_KIND, data.name, {k: v for k, v in fields.items() if v})


def project_environments(c: Container, uow: UnitOfWork, actor: Actor, project_name: str) -> list[Resource]:
    """Get Environments by Project: every environment (they are org-wide here) once the project is found;
    a project that is absent or not visible is Apinizer's 400."""
    if _scope(c, uow, actor, project_name, PROJECT_KIND) is None:
        raise InvalidInput(f"Project not found for name: ({project_name}) or user has not privilege to access it!")
    return list_environments(c, uow, actor)


def list_environments(c: Container, uow: UnitOfWork, actor: Actor) -> list[Resource]:
    return sorted(c.resources.list(uow, actor, ENVIRONMENT_KIND), key=lambda r: r.key)
