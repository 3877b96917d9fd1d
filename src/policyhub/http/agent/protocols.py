"""The enforcement protocols on the agent's listener: AuthZEN, Envoy HTTP ext_authz, nginx auth_request
(and, with ``--grpc-port``, Envoy's gRPC Check and rate limit service).

The hub's own faces serve them, unchanged: only who asks is the agent's rule, plugged in through each
face's caller interface (AuthZEN's :class:`~policyhub.http.authzen.Backend`, ext_authz's
:class:`~policyhub.http.extauthz.Callers`):

- the credential is the agent's local token (``POLICYHUB_AGENT_LOCAL_TOKEN``) when one is set, carried
  where the face carries a key (AuthZEN: ``Authorization: Bearer``; ext_authz and auth_request:
  ``X-PolicyHub-Key``; gRPC: ``x-policyhub-key`` or ``authorization: Bearer`` metadata); with none set,
  no credential is asked for (a loopback sidecar);
- the org is the agent's (its slug or id in the path; another is a 404), and the answer is the agent's
  snapshot's, or 503 before it has a verified bundle;
- the decisions go to the agent's spool with the face's source (``authzen``, ``envoy_http``, ``nginx``,
  ``envoy_grpc``, ``envoy_ratelimit``) as their protocol; the hub logs them as ``agent:<name>/<protocol>``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request

from policyhub.agent.runtime import Agent
from policyhub.agent.source import NoState
from policyhub.errors import NotFound
from policyhub.http import authzen, extauthz
from policyhub.http.authzen import Backend
from policyhub.http.authzen.routes import Caller as AuthzenCaller
from policyhub.http.deps import header
from policyhub.http.extauthz import Caller
from policyhub.http.problems import ErrorFaces

#: Checks a credential against the local token (None: none sent); raises ``Unauthenticated``.
TokenCheck = Callable[[str | None], None]


def serving(agent: Agent, org: str | None) -> None:
    """503 before the first verified bundle (never a decision made on nothing); 404 for another org."""
    if agent.applied is None:
        raise NoState("the agent has no verified bundle yet; it does not decide on nothing")
    if org is not None and not agent.serves_org(org):
        raise NotFound(f"org {org!r} not found")


def _org_names(agent: Agent) -> tuple[str, ...]:
    return (agent.config.org, agent.org_id) if agent.org_id else (agent.config.org,)


class AgentCallers:
    """ext_authz's caller rule on the agent: the local token (if set) in the face's key header."""

    def __init__(self, agent: Agent, check: TokenCheck, *, requires_key: bool) -> None:
        self.agent = agent
        self.check = check
        self.requires_key = requires_key

    async def caller(self, key: str | None, app: Any) -> Caller:
        self.check(key)
        serving(self.agent, None)  # the org in the path is checked by the face, against org_names
        return Caller(self.agent.actor(), self.agent.decisions, _org_names(self.agent))


class AgentBackend(Backend):
    """AuthZEN's backend on the agent: the local token as a Bearer key, the agent's decisions, and the
    agent's own address in the metadata document."""

    def __init__(self, agent: Agent, check: TokenCheck) -> None:
        super().__init__(None)
        self.agent = agent
        self.check = check

    async def caller(self, request: Request, org: str) -> AuthzenCaller:
        scheme, _, given = (header(request.scope, b"authorization") or "").partition(" ")
        self.check(given.strip() if scheme.lower() == "bearer" else None)
        serving(self.agent, org)
        return self.agent.actor(), self.agent.decisions

    def base_url(self, request: Request) -> str:
        return self.agent.config.public_base_url

    def max_json_depth(self, request: Request) -> int:
        return self.agent.settings.max_json_depth


def install(app: FastAPI, faces: ErrorFaces, agent: Agent, check: TokenCheck, *, token_set: bool) -> AgentCallers:
    """Serve the protocol faces in the agent's ``app``; returns the ext_authz caller rule (for gRPC)."""
    callers = AgentCallers(agent, check, requires_key=token_set)
    authzen.install(app, faces, AgentBackend(agent, check))
    extauthz.install(app, faces, callers)
    return callers
