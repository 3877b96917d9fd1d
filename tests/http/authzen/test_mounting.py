"""The AuthZEN face mounted in another FastAPI app (as an agent would serve it), under a prefix, with its
own backend: the same answers, from the decision service of the backend's container."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from policyhub.http import problems
from policyhub.http.authzen import Backend, install
from policyhub.http.deps import Container
from tests.conftest import OrgClient


class AgentBackend(Backend):
    """Another app's backend: its own container (none in the app's state) and public address."""

    def base_url(self, request: Request) -> str:
        return "https://agent.example.com/pdp"


def test_the_face_mounts_in_another_app_under_a_prefix(org: OrgClient, container: Container) -> None:
    rules = {"rules": [{"subject": {"type": "user"}, "action": {"name": "read"}}]}
    assert org.post("policies", json={"name": "open", "type": "access_rules", "spec": rules}).status_code == 201
    app = FastAPI()
    faces = problems.ErrorFaces()
    problems.install(app, faces)
    install(app, faces, AgentBackend(container), prefix="/pdp")
    with TestClient(app) as client:
        body = {
            "subject": {"type": "user", "id": "a"},
            "action": {"name": "read"},
            "resource": {"type": "d", "id": "1"},
        }
        r = client.post(f"/pdp/orgs/{org.slug}/access/v1/evaluation", json=body, headers=org.headers())
        assert r.status_code == 200 and r.json()["decision"] is True, r.text
        missing = client.post(f"/pdp/orgs/{org.slug}/access/v1/evaluation", json={}, headers=org.headers())
        assert missing.status_code == 400 and missing.headers["content-type"].startswith("text/plain")
        meta = client.get(f"/pdp/.well-known/authzen-configuration/orgs/{org.slug}").json()
        assert meta["policy_decision_point"] == f"https://agent.example.com/pdp/orgs/{org.slug}"
