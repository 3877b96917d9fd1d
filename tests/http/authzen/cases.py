"""Every test of the certification scenario's Basic, Batch, Search and Discovery levels, by test ID
(certification-scenario-1_0.md): the requests it sends and what it checks of the answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

ALICE = {"type": "user", "id": "alice"}
BOB = {"type": "user", "id": "bob"}
BOB_ADMIN = {"type": "user", "id": "bob", "properties": {"role": "admin"}}
READ, WRITE = {"name": "read"}, {"name": "write"}
R1 = {"type": "record", "id": "record-1"}
R2 = {"type": "record", "id": "record-2"}
R2_ARCHIVED = {**R2, "properties": {"status": "archived"}}
CTX = {"time": "2025-06-27T18:03-07:00", "ip": "192.168.1.1"}


@dataclass
class Req:
    endpoint: str  # evaluation, evaluations, search/subject, search/resource, search/action
    body: Any = None
    raw: bytes | None = None
    content_type: str | None = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


Check = Callable[[list[httpx.Response]], None]


@dataclass
class Case:
    id: str
    requests: list[Req]
    check: Check


def _ok(r: httpx.Response) -> Any:
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


def decisions(*expected: bool | None) -> Check:
    """Each answer is a 200 with a boolean decision (equal to the expected one unless None) and, if it has
    a context, an object."""

    def check(responses: list[httpx.Response]) -> None:
        assert len(responses) == len(expected)
        for r, want in zip(responses, expected, strict=True):
            body = _ok(r)
            assert isinstance(body["decision"], bool), body
            assert isinstance(body.get("context", {}), dict)
            if want is not None:
                assert body["decision"] is want, body

    return check


def batch(*expected: bool | None) -> Check:
    def check(responses: list[httpx.Response]) -> None:
        (r,) = responses
        items = _ok(r)["evaluations"]
        assert len(items) == len(expected), items
        for item, want in zip(items, expected, strict=True):
            assert isinstance(item["decision"], bool) and isinstance(item.get("context", {}), dict), item
            if want is not None:
                assert item["decision"] is want, items

    return check


def status(code: int) -> Check:
    def check(responses: list[httpx.Response]) -> None:
        for r in responses:
            assert r.status_code == code, (r.status_code, r.text)

    return check


def results(kind: str, *must: str, exactly: bool = False) -> Check:
    """Every answer is a 200 whose results are entities of the kind searched, including ``must``."""

    def check(responses: list[httpx.Response]) -> None:
        for r in responses:
            body = _ok(r)
            assert isinstance(body["results"], list)
            if kind == "action":
                found = [e["name"] for e in body["results"]]
            else:
                assert all(e["type"] == kind for e in body["results"]), body
                found = [e["id"] for e in body["results"]]
            assert set(must) <= set(found), body
            if exactly:
                assert sorted(found) == sorted(must), body

    return check


def ev(subject: Any, action: Any, resource: Any, **more: Any) -> dict[str, Any]:
    return {"subject": subject, "action": action, "resource": resource, **more}


def one(body: Any, endpoint: str = "evaluation") -> list[Req]:
    return [Req(endpoint, body)]


def _request_id(responses: list[httpx.Response]) -> None:
    echoed, plain = responses
    _ok(echoed)
    assert echoed.headers["x-request-id"] == "bfe9eb29-ab87-4ca3-be83-a1d5d8305716"
    _ok(plain)


_DELETE = {"name": "delete", "properties": {"soft": True}}
_HARD = {"name": "delete", "properties": {"soft": False}}

BASIC: list[Case] = [
    Case("c-2-2-1", one(ev(ALICE, READ, R1)), decisions(True)),
    Case("c-2-2-2", one(ev(BOB, WRITE, R1)), decisions(False)),
    Case("c-2-2-3", one(ev(ALICE, READ, R1, context=CTX)), decisions(True)),
    Case("c-2-2-4", one(ev(ALICE, WRITE, R2_ARCHIVED)), decisions(False)),
    Case("c-2-2-5", one(ev(BOB_ADMIN, WRITE, R2_ARCHIVED)), decisions(True)),
    Case("c-2-2-6", one(ev(ALICE, _DELETE, R1)), decisions(True)),
    Case("c-2-2-7", one(ev(ALICE, _HARD, R1)), decisions(False)),
    Case(
        "c-2-2-8",
        one(
            ev(
                {**ALICE, "properties": {"department": "Sales", "role": "manager"}},
                {"name": "read", "properties": {"method": "GET"}},
                {**R1, "properties": {"status": "active", "owner": "bob"}},
            )
        ),
        decisions(True),
    ),
    Case("c-2-2-9", one(ev(ALICE, READ, R1, foo="bar", futureField={"nested": True})), decisions(True)),
    Case(
        "c-2-3", [Req("evaluation", ev(ALICE, READ, R1)), Req("evaluation", ev(BOB, WRITE, R1))], decisions(None, None)
    ),
    Case(
        "c-2-4",
        [
            Req("evaluation", {"action": READ, "resource": R1}),
            Req("evaluation", {"subject": ALICE, "resource": R1}),
            Req("evaluation", {"subject": ALICE, "action": READ}),
            Req("evaluation", ev({"id": "alice"}, READ, R1)),
            Req("evaluation", ev({"type": "user"}, READ, R1)),
            Req("evaluation", ev(ALICE, {}, R1)),
            Req("evaluation", ev(ALICE, READ, {"id": "record-1"})),
            Req("evaluation", ev(ALICE, READ, {"type": "record"})),
            Req("evaluation", raw=b'{"subject": {"type": "user", "id": "alice"}', content_type="application/json"),
            Req("evaluation", raw=b"", content_type="application/json"),
            Req("evaluation", raw=b'{"subject": {}}', content_type="text/plain"),
            Req("evaluation", raw=b"subject=alice", content_type="application/x-www-form-urlencoded"),
            Req("evaluation", ev("alice", READ, R1)),
            Req("evaluation", ev(ALICE, {"name": 123}, R1)),
        ],
        status(400),
    ),
    Case(
        "c-2-5",
        [
            Req("evaluation", ev(ALICE, READ, R1), headers={"X-Request-ID": "bfe9eb29-ab87-4ca3-be83-a1d5d8305716"}),
            Req("evaluation", ev(ALICE, READ, R1)),
        ],
        _request_id,
    ),
    Case("c-2-6", [Req("evaluation", ev(BOB, WRITE, R1)) for _ in range(3)], decisions(False, False, False)),
]

BATCH: list[Case] = [
    Case(
        "c-3-2-1",
        one({"subject": ALICE, "action": READ, "evaluations": [{"resource": R1}, {"resource": R2}]}, "evaluations"),
        batch(None, None),
    ),
    Case(
        "c-3-2-2",
        one({"subject": BOB, "resource": R1, "evaluations": [{"action": READ}, {"action": WRITE}]}, "evaluations"),
        batch(True, False),
    ),
    Case(
        "c-3-2-3",
        one(
            {
                "subject": ALICE,
                "action": WRITE,
                "evaluations": [{"resource": {**R1, "properties": {"status": "active"}}}, {"resource": R2_ARCHIVED}],
            },
            "evaluations",
        ),
        batch(True, False),
    ),
    Case(
        "c-3-2-4",
        one(
            {"action": WRITE, "resource": R2_ARCHIVED, "evaluations": [{"subject": ALICE}, {"subject": BOB_ADMIN}]},
            "evaluations",
        ),
        batch(False, True),
    ),
    Case(
        "c-3-2-5",
        one({"evaluations": [ev(ALICE, READ, R1), ev(BOB, WRITE, R1)]}, "evaluations"),
        batch(True, False),
    ),
    Case(
        "c-3-2-6",
        one(
            {
                "subject": ALICE,
                "action": READ,
                "context": {"time": "2025-06-27T18:03-07:00"},
                "evaluations": [
                    {"resource": R1},
                    {"resource": R2, "context": {"time": "2025-06-27T19:00-07:00", "source": "batch-override"}},
                ],
            },
            "evaluations",
        ),
        batch(None, None),
    ),
    Case(
        "c-3-2-7",
        one(
            {
                "subject": ALICE,
                "action": WRITE,
                "resource": {**R1, "properties": {"status": "active"}},
                "evaluations": [{}, {"resource": R2_ARCHIVED}],
            },
            "evaluations",
        ),
        batch(True, False),
    ),
    Case(
        "c-3-3",
        one({"evaluations": [ev(BOB, WRITE, R1), ev(ALICE, READ, R1), ev(BOB, READ, R1)]}, "evaluations"),
        batch(False, True, True),
    ),
    Case(
        "c-3-4-1",
        one(
            {
                "subject": ALICE,
                "action": READ,
                "options": {"evaluations_semantic": "execute_all"},
                "evaluations": [{"resource": R1}, {}],
            },
            "evaluations",
        ),
        batch(True, False),
    ),
    Case("c-3-4-2", one(ev(ALICE, READ, R1), "evaluations"), decisions(True)),
    Case("c-3-4-3", one(ev(ALICE, READ, R1, evaluations=[]), "evaluations"), decisions(True)),
]

_S_READ_R1 = {"subject": {"type": "user"}, "action": READ, "resource": R1}


def _paginated(responses: list[httpx.Response]) -> None:
    first = _ok(responses[0])
    assert isinstance(first["results"], list) and len(first["results"]) == 1
    assert isinstance(first["page"], dict) and isinstance(first["page"]["next_token"], str)


SEARCH: list[Case] = [
    Case("c-4-2-1", one(_S_READ_R1, "search/subject"), results("user", "alice", "bob")),
    Case("c-4-2-2", one({**_S_READ_R1, "context": CTX}, "search/subject"), results("user", "alice", "bob")),
    Case("c-4-2-3", one({**_S_READ_R1, "subject": ALICE}, "search/subject"), results("user", "alice", "bob")),
    Case(
        "c-4-2-4",
        one({"subject": {"type": "user"}, "action": WRITE, "resource": R2_ARCHIVED}, "search/subject"),
        results("user", "bob"),
    ),
    Case(
        "c-4-3-1",
        one({"subject": ALICE, "action": READ, "resource": {"type": "record"}}, "search/resource"),
        results("record", "record-1"),
    ),
    Case(
        "c-4-3-2",
        one({"subject": ALICE, "action": READ, "resource": {"type": "record"}, "context": CTX}, "search/resource"),
        results("record", "record-1"),
    ),
    Case(
        "c-4-3-3",
        one({"subject": ALICE, "action": READ, "resource": R1}, "search/resource"),
        results("record", "record-1"),
    ),
    Case(
        "c-4-3-4",
        one({"subject": BOB_ADMIN, "action": WRITE, "resource": {"type": "record"}}, "search/resource"),
        results("record", "record-2"),
    ),
    Case("c-4-4-1", one({"subject": ALICE, "resource": R1}, "search/action"), results("action", "read", "write")),
    Case(
        "c-4-4-2",
        one({"subject": ALICE, "resource": R1, "context": CTX}, "search/action"),
        results("action", "read", "write"),
    ),
    Case("c-4-4-3", one({"subject": BOB_ADMIN, "resource": R2_ARCHIVED}, "search/action"), results("action", "write")),
    Case("c-4-5", one({**_S_READ_R1, "page": {"limit": 1}}, "search/subject"), _paginated),
    Case(
        "c-4-6",
        [
            Req("search/action", {"subject": {"type": "user", "id": "nonexistent-user"}, "resource": R1}),
            Req("search/subject", {**_S_READ_R1, "subject": {"type": "spaceship"}}),
            Req("search/resource", {"subject": ALICE, "action": READ, "resource": {"type": "spaceship"}}),
        ],
        results("", exactly=True),
    ),
    Case(
        "c-4-7",
        [
            Req("search/subject", {"subject": {"type": "user"}, "resource": R1}),
            Req("search/resource", {"action": READ, "resource": {"type": "record"}}),
            Req("search/action", {"subject": ALICE}),
            Req("search/subject", {"subject": {"type": "user"}, "action": READ, "resource": {"type": "record"}}),
            Req("search/resource", {"subject": {"type": "user"}, "action": READ, "resource": {"type": "record"}}),
            Req("search/action", {"subject": {"type": "user"}, "resource": R1}),
        ],
        status(400),
    ),
]

CASES = [*BASIC, *BATCH, *SEARCH]
