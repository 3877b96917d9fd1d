"""Incremental snapshots select exactly what a full load selects.

Random sequences of writes through the real app (policy create, merge patch, disable, archive, unarchive,
rollback; scope create and delete; resource create, update and delete, including Kosli environments
whose attachments select policies and a JFrog rule a policy refers to) on SQLite and PostgreSQL: after
each write the engine's snapshot, made from the held one and the change feed, is compared with a fresh
full load, for every decision point and every scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policyhub.app import Container
from policyhub.domain.records import Actor, Role
from policyhub.engine import source as source_module
from policyhub.engine.snapshot import load_snapshot
from policyhub.evaluation import sorted_chunks
from policyhub.evaluation.inputs.attachments import ENVIRONMENT_KIND
from policyhub.evaluation.inputs.environment import attachments
from policyhub.evaluation.snapshot import OrgSnapshot
from policyhub.policy_types.jfrog.kinds import RULE_KIND, TEMPLATE_KIND
from tests.conftest import OrgClient, new_org

SCOPES = ["a", "a/b", "a/b/c", "d"]
PLACES: list[str | None] = [None, *SCOPES]
NAMES = [f"p{i}" for i in range(6)]
ACTIONS = [
    "create",
    "create",
    "patch",
    "toggle",
    "archive",
    "unarchive",
    "rollback",
    "move",
    "scope",
    "drop_scope",
    "resource",
    "attach",
    "drop_resource",
    "rule",
]


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of one policy (split past two), so these few policies' (scope, point) lists are chunked,
    split and emptied as a list of the whole org would be."""
    monkeypatch.setattr(sorted_chunks, "CHUNK", 1)


@pytest.fixture
def outcomes(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """How often the delta applied, and how often it fell back to a full load."""
    counts = {"applied": 0, "full": 0}
    real = source_module.apply_delta

    def counted(*args: Any, **kw: Any) -> OrgSnapshot | None:
        found = real(*args, **kw)
        counts["applied" if found is not None else "full"] += 1
        return found

    monkeypatch.setattr(source_module, "apply_delta", counted)
    yield counts


def _spec(variant: int) -> dict[str, Any]:
    return {"denied_users": [f"user{variant}@example.org"]}


def _step(org: OrgClient, action: str, n: int, m: int) -> None:
    """One write (it may be refused: a 4xx is part of the sequence, a 5xx is not)."""
    name = NAMES[n % len(NAMES)]
    scope = PLACES[m % len(PLACES)]
    if action == "create":
        body: dict[str, Any] = {"name": name, "type": "syftspace.access", "spec": _spec(m), "enabled": m != 3}
        if scope:
            body["scope"] = scope
        r = org.post("policies", json=body)
    elif action == "patch":
        r = org.patch(f"policies/{name}", merge={"spec": _spec(m + 10)})
    elif action == "toggle":
        r = org.patch(f"policies/{name}", merge={"enabled": m % 2 == 0})
    elif action == "move":
        r = org.patch(f"policies/{name}", merge={"scope": scope})
    elif action == "archive":
        r = org.delete(f"policies/{name}")
    elif action == "unarchive":
        found = org.get("policies", params={"archived": "true"}).json().get("items", [])
        ids = [p["id"] for p in found if p.get("archived")]
        r = org.post(f"policies/{ids[m % len(ids)]}/unarchive") if ids else None
    elif action == "rollback":
        r = org.post(f"policies/{name}/rollback", json={"version": 1})
    elif action in ("scope", "drop_scope"):
        path = SCOPES[m % len(SCOPES)]
        parent, _, key = path.rpartition("/")
        if action == "scope":
            r = org.post("scopes", json={"kind": "project", "key": key, **({"parent": parent} if parent else {})})
        else:
            r = org.delete(f"scopes/{path}")
    else:
        r = None
        _resource_step(org, action, n, m)
    assert r is None or r.status_code < 500, r.text


def _resource_step(org: OrgClient, action: str, n: int, m: int) -> None:
    """Resources through the service (no core route writes them): Kosli environments and another kind."""
    c: Container = org.container
    actor = _actor(org)
    if action == "rule":  # the JFrog policy refers to the rule: the delta must recompile it
        with c.db.write() as uow:
            found = uow.resources.by_key(org.org_id, RULE_KIND, "rule")
            if found is not None:
                c.resources.update(uow, actor, RULE_KIND, found.id, _rule_data(found.data["template_id"], n + m))
        return
    kind = ENVIRONMENT_KIND if n % 2 == 0 else "test.thing"
    key = f"r{m % 2}"
    with c.db.write() as uow:
        found = uow.resources.by_key(org.org_id, kind, key)
        if action == "drop_resource":
            if found is not None:
                c.resources.delete(uow, actor, kind, found.id)
            return
        ids = [p.id for p in uow.policies.live_enabled(org.org_id)]
        data = {"policy_ids": ids[m % 3 :: 2], "n": n} if action == "attach" else {"n": n + m}
        if found is None:
            c.resources.create(uow, actor, kind, key, data)
        else:
            c.resources.update(uow, actor, kind, found.id, data)


def _actor(org: OrgClient) -> Actor:
    return Actor(org_id=org.org_id, principal_id="tester", name="tester", role=Role.ADMIN, scope_path=None)


def _rule_data(template_id: str, max_vulns: int) -> dict[str, Any]:
    return {"template_id": template_id, "parameters": [{"name": "max_vulns", "value": str(max_vulns)}]}


def _jfrog(org: OrgClient) -> None:
    """A JFrog template, a rule of it, and a lifecycle policy that refers to the rule."""
    c, actor = org.container, _actor(org)
    rego = (
        "package curation.policies\n\nimport rego.v1\n\n"
        'default allow := {"should_allow": false, "explanation": "no"}\n'
    )
    template = {"name": "t", "rego": rego, "parameters": [{"name": "max_vulns", "type": "int"}]}
    with c.db.write() as uow:
        made = c.resources.create(uow, actor, TEMPLATE_KIND, "template", template)
        rule = c.resources.create(uow, actor, RULE_KIND, "rule", _rule_data(made.id, 1))
    spec = {
        "mode": "block",
        "action": {"type": "certify_to_gate", "stage": {"key": "production", "gate": "entry"}},
        "scope": {"type": "project", "project_keys": ["my-project"]},
        "rule_ids": [rule.id],
    }
    r = org.post("policies", json={"name": "gate", "type": "jfrog.lifecycle", "spec": spec})
    assert r.status_code == 201, r.text


def _view(snapshot: OrgSnapshot, points: list[str], paths: list[str | None]) -> dict[str, Any]:
    """Everything a decision reads of a snapshot, as plain values."""
    selected = {
        # the compiled object itself: a policy not recompiled after its rule changed keeps the old one
        (point, path): [(e.policy.id, e.policy.revision, id(e.compiled)) for e in found]
        for point in points
        for path in paths
        for found in (snapshot.at_scope(point, path),)
    }
    attached = {k: [e.policy.id for e in v] for k, v in attachments(snapshot, "environment").items()}
    return {
        "seq": snapshot.seq,
        "selected": selected,
        "entries": sorted((e.policy.id, e.policy.revision, e.policy.scope_path) for e in snapshot.entries()),
        "scopes": [(s.id, s.path) for s in snapshot.scopes()],
        "resources": sorted(
            (r.kind, r.id, r.key, repr(r.data), r.updated_at.isoformat())
            for kind in (ENVIRONMENT_KIND, "test.thing")
            for r in snapshot.resources(kind)
        ),
        "attached": attached,
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.integers(0, 11), st.integers(0, 11)), min_size=4, max_size=16
    )
)
def test_incremental_snapshot_selects_what_a_full_load_selects(
    app_client: Any, container: Container, outcomes: dict[str, int], steps: list[tuple[str, int, int]]
) -> None:
    org = new_org(app_client, container, prefix="delta")
    for key, parent in (("a", None), ("b", "a"), ("d", None)):
        org.post("scopes", json={"kind": "project", "key": key, **({"parent": parent} if parent else {})})
    for i, scope in enumerate((None, "a", "a/b")):
        _step(org, "create", i, PLACES.index(scope))
    _jfrog(org)
    engine = container.decisions.engine
    points = engine.points.names()
    engine.snapshot(org.org_id)
    for action, n, m in steps:
        _step(org, action, n, m)
        incremental = engine.refresh(org.org_id)
        with container.db.read() as uow:
            full = load_snapshot(uow, org.org_id, engine._compile)
        paths: list[str | None] = [None, *SCOPES, "a/b/c/deeper", "zz"]
        assert _view(incremental, points, paths) == _view(full, points, paths), (action, n, m)


def test_the_delta_is_applied_not_read_in_full(org: OrgClient, outcomes: dict[str, int]) -> None:
    """A policy write is applied to the held snapshot: untouched policies keep their entries (no recompile)
    and the org is not read again."""
    engine = org.container.decisions.engine
    for name in ("one", "two"):
        org.post("policies", json={"name": name, "type": "syftspace.access", "spec": _spec(1)})
    before = engine.refresh(org.org_id)
    compiled = engine.cache.compiled
    org.patch("policies/two", merge={"spec": _spec(2)})
    after = engine.refresh(org.org_id)
    assert outcomes == {"applied": 1, "full": 0}
    assert engine.cache.compiled == compiled + 1  # only the changed policy
    one = next(e for e in before.entries() if e.policy.name == "one")
    assert after.entry(one.policy.id) is one
    assert after.seq > before.seq
    assert [e.policy.name for e in after.at_scope("http_request", None)] == ["one", "two"]
    # the snapshot a running decision holds is unchanged
    two_before = next(e for e in before.entries() if e.policy.name == "two")
    assert before.entry(two_before.policy.id) is two_before
    assert before.at_scope("http_request", None)[1] is two_before


def test_a_scope_deletion_reads_the_org_in_full(org: OrgClient, outcomes: dict[str, int]) -> None:
    engine = org.container.decisions.engine
    assert org.post("scopes", json={"kind": "project", "key": "gone"}).status_code == 201
    engine.refresh(org.org_id)
    assert org.delete("scopes/gone").status_code == 204
    snapshot = engine.refresh(org.org_id)
    assert snapshot.scope("gone") is None
    assert outcomes["full"] == 1
