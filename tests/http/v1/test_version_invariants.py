"""Property-based: any sequence of writes keeps versions, revisions and events consistent."""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.conftest import OrgClient

specs = st.dictionaries(st.sampled_from("abc"), st.integers(0, 3) | st.booleans(), max_size=3)
names = st.sampled_from(["alpha", "beta", "gamma"])
CONTENT_EVENTS = {"creation", "new_version", "rollback"}


def same(a: Any, b: Any) -> bool:
    """The model's content equality: JSON text, where 0 and false (equal to Python's ``==``) differ."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def make_machine(org: OrgClient) -> type[RuleBasedStateMachine]:
    class PolicyHistory(RuleBasedStateMachine):
        """A model of live policies: name -> (id, spec, version, revision, writes)."""

        def __init__(self) -> None:
            super().__init__()
            self.live: dict[str, dict[str, Any]] = {}
            self.archived: list[str] = []
            self.prefix = f"h{uuid.uuid4().hex[:8]}-"

        def _name(self, n: str) -> str:
            return self.prefix + n

        @rule(name=names, spec=specs)
        def create(self, name: str, spec: dict[str, Any]) -> None:
            r = org.post("policies", json={"name": self._name(name), "type": "document", "spec": spec})
            if name in self.live:
                assert r.status_code == 409
                return
            assert r.status_code == 201, r.text
            self.live[name] = {
                "id": r.json()["id"],
                "spec": spec,
                "version": 1,
                "revision": 1,
                "events": 1,
                "description": "",
            }

        @precondition(lambda self: self.live)
        @rule(data=st.data(), spec=specs)
        def put_spec(self, data: st.DataObject, spec: dict[str, Any]) -> None:
            name = data.draw(st.sampled_from(sorted(self.live)))
            model = self.live[name]
            r = org.put(f"policies/{model['id']}", json={"spec": spec})
            assert r.status_code == 200, r.text
            spec_changed, description_reset = not same(spec, model["spec"]), model["description"] != ""
            if spec_changed:
                model.update(spec=spec, version=model["version"] + 1)
            if spec_changed or description_reset:  # PUT resets the omitted description
                model.update(revision=model["revision"] + 1, description="")
                model["events"] += spec_changed + description_reset
            assert r.json()["version"] == model["version"]

        @precondition(lambda self: self.live)
        @rule(data=st.data(), spec=specs)
        def merge(self, data: st.DataObject, spec: dict[str, Any]) -> None:
            name = data.draw(st.sampled_from(sorted(self.live)))
            model = self.live[name]
            r = org.patch(f"policies/{model['id']}", merge={"spec": spec})
            assert r.status_code == 200, r.text
            merged = {**model["spec"], **spec}
            if not same(merged, model["spec"]):
                model.update(spec=merged, version=model["version"] + 1, revision=model["revision"] + 1)
                model["events"] += 1
            assert same(r.json()["spec"], model["spec"])

        @precondition(lambda self: self.live)
        @rule(data=st.data(), description=st.sampled_from(["", "x", "y"]))
        def describe(self, data: st.DataObject, description: str) -> None:
            name = data.draw(st.sampled_from(sorted(self.live)))
            model = self.live[name]
            r = org.patch(f"policies/{model['id']}", merge={"description": description})
            assert r.status_code == 200
            if model["description"] != description:
                model.update(revision=model["revision"] + 1, events=model["events"] + 1, description=description)

        @precondition(lambda self: self.live)
        @rule(data=st.data())
        def rollback(self, data: st.DataObject) -> None:
            name = data.draw(st.sampled_from(sorted(self.live)))
            model = self.live[name]
            target = data.draw(st.integers(1, model["version"]))
            old = org.get(f"policies/{model['id']}/versions/{target}").json()["spec"]
            r = org.post(f"policies/{model['id']}/rollback", json={"version": target})
            if same(old, model["spec"]):
                assert r.status_code == 409
                return
            assert r.status_code == 200, r.text
            model.update(
                spec=old, version=model["version"] + 1, revision=model["revision"] + 1, events=model["events"] + 1
            )

        @precondition(lambda self: self.live)
        @rule(data=st.data())
        def archive(self, data: st.DataObject) -> None:
            name = data.draw(st.sampled_from(sorted(self.live)))
            model = self.live.pop(name)
            assert org.delete(f"policies/{model['id']}").status_code == 200
            self.archived.append(model["id"])

        @invariant()
        def history_is_consistent(self) -> None:
            for model in self.live.values():
                doc = org.get(f"policies/{model['id']}").json()
                assert same(doc["spec"], model["spec"])
                assert (doc["version"], doc["revision"]) == (model["version"], model["revision"])
                versions = org.get(f"policies/{model['id']}/versions").json()
                assert [v["version"] for v in versions] == list(range(1, model["version"] + 1))
                assert same(versions[-1]["spec"], doc["spec"])
                assert all(a["content_hash"] != b["content_hash"] for a, b in itertools.pairwise(versions))
                events = org.get(f"policies/{model['id']}/events", params={"limit": 500}).json()["items"]
                assert sum(e["type"] in CONTENT_EVENTS for e in events) == len(versions)
                assert len(events) == model["events"], "one event per kind of change"

        def teardown(self) -> None:
            assert org.get("audit/verify").json()["ok"]

    return PolicyHistory


def test_version_and_event_invariants(org: OrgClient) -> None:
    machine = make_machine(org)
    machine.TestCase.settings = settings(
        max_examples=8,
        stateful_step_count=10,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    machine.TestCase().runTest()
