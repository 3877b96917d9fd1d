"""Who asks a proxy check, and which decision service answers: the one thing the ext_authz faces (HTTP
and gRPC) leave to the app that serves them.

The hub's answer (:class:`KeyCallers`) is a PolicyHub API key of the org (``agent`` keys refused); an
agent's listener plugs in its own rule (``policyhub.http.agent.protocols``): its local token, if any,
and the fixed org of its bundle. Everything else (translation, the decision, the answer) is the face's
own code, the same for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from policyhub.domain.records import Actor
from policyhub.http.deps import Container, key_actor
from policyhub.services.authz import refuse_agent
from policyhub.services.decisions import DecisionService


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: who it is, what decides for it, and the names (slug, id) of its org, which
    a path or a rate limit domain must use."""

    actor: Actor
    decisions: DecisionService
    org_names: tuple[str, ...]


class Callers(Protocol):
    """How a face turns the credential it received into a :class:`Caller`."""

    #: A request without a credential is refused (401) before :meth:`caller` is asked.
    requires_key: bool

    async def caller(self, key: str | None, app: Any) -> Caller:
        """The caller holding ``key`` (None: none sent); ``app`` is the serving ASGI app (None on gRPC).
        Raises ``Unauthenticated`` (a bad key), ``Forbidden`` or ``Unavailable``."""
        ...


class KeyCallers:
    """The hub's rule: an API key of the org, any role but ``agent``; the decisions of ``container`` (by
    default the serving app's, ``app.state.container``)."""

    requires_key = True

    def __init__(self, container: Container | None = None) -> None:
        self.container = container

    async def caller(self, key: str | None, app: Any) -> Caller:
        container: Container = self.container or app.state.container
        actor, org = await key_actor(container, key or "")
        refuse_agent(actor)  # an agent key fetches bundles; it asks no decisions of the hub
        return Caller(actor, container.decisions, (org.slug, org.id))
