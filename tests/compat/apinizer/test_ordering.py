"""Order rules: 1-based, per (proxy, scope target, pipeline) list, dense after every change."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from .helpers import SCRIPT, Apinizer

GET_USERS = {"scope": "ENDPOINT", "targetEndpoint": "/api/users", "targetEndpointHTTPMethod": "GET"}


def three(api: Apinizer) -> None:
    for name in ("a", "b", "c"):
        assert api.add(name).status_code == 200
    assert api.names() == ["a", "b", "c"]


def test_add_appends_when_order_is_null(api: Apinizer) -> None:
    three(api)
    assert api.orders("a", "b", "c") == [1, 2, 3]


@pytest.mark.parametrize(("order", "expected"), [(1, ["d", "a", "b", "c"]), (3, ["a", "b", "d", "c"])])
def test_add_inserts_at_order(api: Apinizer, order: int, expected: list[str]) -> None:
    three(api)
    assert api.add("d", order=order).status_code == 200
    assert api.names() == expected
    assert api.orders(*expected) == [1, 2, 3, 4]


@pytest.mark.parametrize("order", [4, 5, 1000])
def test_add_with_order_at_or_beyond_the_list_size_appends(api: Apinizer, order: int) -> None:
    three(api)
    assert api.add("d", order=order).status_code == 200
    assert api.names() == ["a", "b", "c", "d"]
    assert api.orders("d") == [4]


def test_update_with_null_order_keeps_the_position(api: Apinizer) -> None:
    three(api)
    r = api.update("b", order=None)
    assert r.status_code == 200, r.text
    assert api.names() == ["a", "b", "c"]
    r = api.update("b")  # order omitted
    assert r.status_code == 200, r.text
    assert api.names() == ["a", "b", "c"]


@pytest.mark.parametrize("order", [3, 4, 99])
def test_update_with_order_at_or_beyond_the_list_size_moves_to_the_end(api: Apinizer, order: int) -> None:
    three(api)
    assert api.update("a", order=order).status_code == 200
    assert api.names() == ["b", "c", "a"]
    assert api.orders("b", "c", "a") == [1, 2, 3]


def test_update_moves_up(api: Apinizer) -> None:
    three(api)
    assert api.update("c", order=1).status_code == 200
    assert api.names() == ["c", "a", "b"]
    assert api.orders("c", "a", "b") == [1, 2, 3]


@pytest.mark.parametrize("order", [0, -1])
def test_update_with_order_below_one_is_rejected_and_changes_nothing(api: Apinizer, order: int) -> None:
    three(api)
    r = api.update("c", order=order)
    assert r.status_code == 400
    assert r.json()["validation_errors"][0]["field"] == "operationMetadata.order"
    assert api.names() == ["a", "b", "c"]
    assert api.events("c") == ["creation"]


def test_move_to_another_list_closes_the_gap_and_inserts(api: Apinizer) -> None:
    three(api)
    assert api.add("x", **GET_USERS).status_code == 200
    assert api.update("a", order=1, **GET_USERS).status_code == 200
    assert api.names() == ["b", "c"]
    assert api.orders("b", "c") == [1, 2]
    assert api.names(endpoint=("/api/users", "GET")) == ["a", "x"]
    assert api.orders("a", "x") == [1, 2]


def test_move_with_null_order_appends_to_the_new_list(api: Apinizer) -> None:
    three(api)
    assert api.add("r", SCRIPT, pipeline="RESPONSE").status_code == 200
    assert api.update("a", pipeline="RESPONSE").status_code == 200
    assert api.names("response") == ["r", "a"]
    assert api.names() == ["b", "c"]


def test_move_back_from_endpoint_to_all(api: Apinizer) -> None:
    three(api)
    assert api.update("b", order=1, **GET_USERS).status_code == 200
    assert api.update("b", order=2).status_code == 200
    assert api.names() == ["a", "b", "c"]
    assert api.names(endpoint=("/api/users", "GET")) == []
    assert "targetEndpoint" not in api.core("b")["attributes"]["apinizer"]


def test_lists_are_separate_per_endpoint_method_and_pipeline(api: Apinizer) -> None:
    assert api.add("g1", **GET_USERS).status_code == 200
    assert (
        api.add("p1", scope="ENDPOINT", targetEndpoint="/api/users", targetEndpointHTTPMethod="POST").status_code == 200
    )
    assert api.add("g2", order=1, **GET_USERS).status_code == 200
    assert api.add("e1", SCRIPT, pipeline="ERROR", order=1).status_code == 200
    assert api.names(endpoint=("/api/users", "GET")) == ["g2", "g1"]
    assert api.names(endpoint=("/api/users", "POST")) == ["p1"]
    assert api.names("error") == ["e1"]
    assert api.orders("g2", "g1", "p1", "e1") == [1, 2, 1, 1]


def test_delete_keeps_orders_dense(api: Apinizer) -> None:
    three(api)
    assert api.delete("a").status_code == 200
    assert api.names() == ["b", "c"]
    assert api.orders("b", "c") == [1, 2]
    assert api.add("a").status_code == 200  # the name is free again
    assert api.names() == ["b", "c", "a"]


def test_renumbering_is_recorded_on_each_moved_policy(api: Apinizer) -> None:
    three(api)
    assert api.update("c", order=1).status_code == 200
    assert api.events("c") == ["creation", "metadata_update"]
    assert api.events("a") == ["creation", "metadata_update"]
    assert api.events("b") == ["creation", "metadata_update"]
    assert api.update("c", order=1).status_code == 200  # already there: nothing changes
    assert api.events("c") == ["creation", "metadata_update"]
    assert api.events("a") == ["creation", "metadata_update"]


def test_concurrent_inserts_keep_orders_dense(api: Apinizer) -> None:
    three(api)
    names = [f"n{i}" for i in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda n: api.add(n, order=2).status_code, names))
    assert statuses == [200] * 6
    listed = api.names()
    assert listed[0] == "a" and listed[-2:] == ["b", "c"] and sorted(listed[1:-2]) == names
    assert api.orders(*listed) == list(range(1, 10))
