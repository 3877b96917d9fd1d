"""The certification scenario's fixture (certification-scenario-1_0.md, "Required Fixture") as PolicyHub
policies, in two forms that must each pass every test: one ``access_rules`` policy, and one ``rego``
policy. Both list the fixture's subjects, resources and actions as their ``entities`` (what makes the
searches enumerable)."""

from __future__ import annotations

from typing import Any

ENTITIES: dict[str, Any] = {
    "subjects": [
        {"type": "user", "id": "alice"},
        {"type": "user", "id": "bob", "properties": {"role": "admin"}},
    ],
    "resources": [
        {"type": "record", "id": "record-1", "properties": {"status": "active"}},
        {"type": "record", "id": "record-2", "properties": {"status": "archived"}},
    ],
    "actions": [{"name": "read"}, {"name": "write"}, {"name": "delete"}],
}

#: Decision rules 1-8: known users read records; alice writes what is not archived; admins write
#: anything; alice soft-deletes. Nothing else is allowed (closed by default).
ACCESS_RULES: dict[str, Any] = {
    "rules": [
        {
            "id": "known-users-read",
            "subject": {"type": "user", "id": ["alice", "bob"]},
            "action": {"name": "read"},
            "resource": {"type": "record"},
        },
        {
            "id": "alice-writes-unarchived",
            "subject": {"type": "user", "id": "alice"},
            "action": {"name": "write"},
            "resource": {"type": "record"},
            "when": [{"path": "resource.properties.status", "equals": "archived", "negate": True}],
            "reason": "alice may write records that are not archived",
        },
        {
            "id": "admins-write",
            "subject": {"type": "user"},
            "action": {"name": "write"},
            "resource": {"type": "record"},
            "when": [{"path": "subject.properties.role", "equals": "admin"}],
        },
        {
            "id": "alice-soft-deletes",
            "subject": {"type": "user", "id": "alice"},
            "action": {"name": "delete"},
            "resource": {"type": "record"},
            "when": [{"path": "action.properties.soft", "equals": True}],
        },
    ],
    "entities": ENTITIES,
}

REGO_MODULE = """\
package authzen.fixture

import rego.v1

default allow := false

known_users := {"alice", "bob"}

allow if {
	input.action.name == "read"
	input.subject.type == "user"
	input.subject.id in known_users
	input.resource.type == "record"
}

allow if {
	input.action.name == "write"
	input.subject.id == "alice"
	input.resource.type == "record"
	object.get(input.resource.properties, "status", "") != "archived"
}

allow if {
	input.action.name == "write"
	input.subject.properties.role == "admin"
	input.resource.type == "record"
}

allow if {
	input.action.name == "delete"
	input.subject.id == "alice"
	input.action.properties.soft == true
}

reasons contains "hard deletes are not allowed" if {
	input.action.name == "delete"
	not allow
}
"""

REGO: dict[str, Any] = {"module": REGO_MODULE, "entities": ENTITIES}

FORMS: dict[str, tuple[str, dict[str, Any]]] = {"access_rules": ("access_rules", ACCESS_RULES), "rego": ("rego", REGO)}
