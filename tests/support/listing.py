"""Reading a whole listing through the API, page after page."""

from __future__ import annotations

from typing import Any

import httpx


def all_versions(client: httpx.Client, ref: str) -> list[dict[str, Any]]:
    """Every version of a policy: the versions list answers arrays, the next page's token in a header."""
    versions: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 500}
    while True:
        r = client.get(f"/policies/{ref}/versions", params=params)
        r.raise_for_status()
        versions += r.json()
        token = r.headers.get("next-page-token")
        if not token:
            return versions
        params = {"limit": 500, "page_token": token}
