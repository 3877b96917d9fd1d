"""The agent's calls to the hub (the rollout contract's endpoints), one small method each.

Failures are two kinds: :class:`HubUnavailable` (cannot connect, timed out, a 5xx or 429: try again
later, with backoff) and :class:`HubRefused` (any other unexpected answer, e.g. 401/403/404: a
configuration problem the agent reports and retries slowly). :class:`FeedGone` is the feed's 410: the
agent is too far behind (or the hub was restored) and must bootstrap again from a bundle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from policyhub import __version__

REVISION_HEADER = "PolicyHub-Revision"


class HubError(Exception):
    """A call to the hub did not give the answer the contract promises."""


class HubUnavailable(HubError):
    """The hub cannot be reached or is overloaded: retry with backoff."""


class HubRefused(HubError):
    """The hub answered with a 4xx (or an unreadable body): the agent's configuration or token is wrong,
    or (400, 413, 422) what was sent."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class FeedGone(HubError):
    """410 from the change feed: re-bootstrap from a bundle."""


@dataclass(frozen=True)
class BundleFetch:
    """``GET .../bundles/{env}``: ``envelope`` is None on a 304 (the agent's bundle is current)."""

    envelope: dict[str, Any] | None
    etag: str | None
    revision: int | None


class HubClient:
    def __init__(self, hub_url: str, org: str, token: str, *, timeout_s: float = 10.0) -> None:
        self.org = org
        self._org_path = f"/v1/orgs/{quote(org, safe='')}"
        self._timeout_s = timeout_s
        self._http = httpx.Client(
            base_url=hub_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "User-Agent": f"policyhub-agent/{__version__}"},
            timeout=timeout_s,
        )

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, *, timeout_s: float | None = None, **kw: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, timeout=timeout_s or self._timeout_s, **kw)
        except httpx.HTTPError as exc:
            raise HubUnavailable(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise HubUnavailable(f"{method} {path}: {response.status_code}")
        return response

    @staticmethod
    def _refused(response: httpx.Response) -> HubRefused:
        detail = ""
        try:
            body = response.json()
            detail = str(body.get("detail") or body.get("title") or "") if isinstance(body, dict) else ""
        except ValueError:
            pass
        method, path = response.request.method, response.request.url.path
        return HubRefused(f"{method} {path}: {response.status_code} {detail}".strip(), response.status_code)

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise HubRefused(f"{response.request.url.path}: the body is not JSON") from exc
        if not isinstance(body, dict):
            raise HubRefused(f"{response.request.url.path}: the body is not a JSON object")
        return body

    def bundle(self, environment: str, etag: str | None) -> BundleFetch:
        headers = {"If-None-Match": etag} if etag else {}
        response = self._call("GET", f"{self._org_path}/bundles/{quote(environment, safe='')}", headers=headers)
        revision = _int_or_none(response.headers.get(REVISION_HEADER))
        if response.status_code == 304:
            return BundleFetch(None, etag, revision)
        if response.status_code != 200:
            raise self._refused(response)
        return BundleFetch(self._json(response), response.headers.get("ETag"), revision)

    def bundle_keys(self) -> list[dict[str, Any]]:
        response = self._call("GET", "/v1/bundle-keys")
        if response.status_code != 200:
            raise self._refused(response)
        keys = self._json(response).get("keys")
        if not isinstance(keys, list):
            raise HubRefused("/v1/bundle-keys: no 'keys' list")
        return [k for k in keys if isinstance(k, dict)]

    def changes(self, after: int, wait_s: float) -> dict[str, Any]:
        """One long poll of the change feed (answers early when something newer commits)."""
        response = self._call(
            "GET",
            f"{self._org_path}/changes",
            params={"after": after, "wait": int(wait_s)},
            timeout_s=wait_s + self._timeout_s,
        )
        if response.status_code == 410:
            raise FeedGone(f"the change feed answered 410 after seq {after}")
        if response.status_code != 200:
            raise self._refused(response)
        return self._json(response)

    def report_status(self, agent: str, status: dict[str, Any]) -> None:
        response = self._call("POST", f"{self._org_path}/agents/{quote(agent, safe='')}/status", json=status)
        if response.status_code not in (200, 204):
            raise self._refused(response)

    def ship(self, agent: str, lines: list[bytes]) -> dict[str, Any]:
        """Send decision log entries (each a JSON object, as spooled) in one batch."""
        body = b'{"decisions":[' + b",".join(lines) + b"]}"
        response = self._call(
            "POST",
            f"{self._org_path}/agents/{quote(agent, safe='')}/decisions",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        if response.status_code != 200:
            raise self._refused(response)
        return self._json(response)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
