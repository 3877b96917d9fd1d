"""``GET .../policies/{ref}/versions`` in keyset pages: ``limit``, ``page_token``, and the next page's token in
``Next-Page-Token`` (and ``Link``), while the body stays the JSON array it always was (issue 16)."""

from __future__ import annotations

from typing import Any

from tests.conftest import OrgClient


def _with_versions(org: OrgClient, name: str, count: int) -> None:
    org.create_policy(name, {"n": 1})
    for n in range(2, count + 1):
        assert org.patch(f"policies/{name}", merge={"spec": {"n": n}}).status_code == 200


def _all_pages(org: OrgClient, first: str) -> list[list[dict[str, Any]]]:
    pages, url = [], first
    while True:
        r = org.get(url)
        assert r.status_code == 200, r.text
        assert isinstance(r.json(), list)
        pages.append(r.json())
        token = r.headers.get("next-page-token")
        if token is None:
            assert "link" not in r.headers
            return pages
        assert r.headers["link"].startswith(f"</v1/orgs/{org.slug}/policies/"), "relative: never the request's Host"
        assert r.headers["link"].endswith('>; rel="next"')
        url = r.headers["link"][1 : -len('>; rel="next"')]
        assert f"page_token={token}" in url


def test_versions_come_in_pages_of_limit_oldest_first(org: OrgClient) -> None:
    _with_versions(org, "paged", 7)
    pages = _all_pages(org, "policies/paged/versions?limit=3")
    assert [[v["version"] for v in page] for page in pages] == [[1, 2, 3], [4, 5, 6], [7]]
    assert [v["spec"] for v in pages[-1]] == [{"n": 7}]


def test_the_default_page_keeps_its_shape_and_holds_up_to_the_default_size(org: OrgClient) -> None:
    _with_versions(org, "short", 3)
    r = org.get("policies/short/versions")
    assert r.status_code == 200 and [v["version"] for v in r.json()] == [1, 2, 3]
    assert "next-page-token" not in r.headers and "link" not in r.headers
    _with_versions(org, "long", org.container.settings.default_page_size + 2)
    pages = _all_pages(org, "policies/long/versions")
    assert [len(p) for p in pages] == [org.container.settings.default_page_size, 2]


def test_an_exact_last_page_has_no_next_token(org: OrgClient) -> None:
    _with_versions(org, "exact", 4)
    pages = _all_pages(org, "policies/exact/versions?limit=2")
    assert [[v["version"] for v in page] for page in pages] == [[1, 2], [3, 4]]


def test_bad_paging_parameters_are_400_naming_them(org: OrgClient) -> None:
    org.create_policy("bad-pages")
    for query, field in (("page_token=%%%", "page_token"), ("page_token=WyJ4Il0", "page_token"), ("limit=0", "limit")):
        r = org.get(f"policies/bad-pages/versions?{query}")
        assert r.status_code == 400, (query, r.text)
        assert field in r.text
    huge = org.get("policies/bad-pages/versions?page_token=OTk5OTk5OTk5OTk5OTk5OTk5OTk5")  # 9999...: past every version
    assert huge.status_code == 200 and huge.json() == []


def test_another_orgs_versions_are_404_on_every_page(org: OrgClient, other_org: OrgClient) -> None:
    _with_versions(org, "mine", 3)
    first = org.get("policies/mine/versions?limit=1")
    token = first.headers["next-page-token"]
    assert other_org.get(f"policies/mine/versions?limit=1&page_token={token}").status_code == 404
