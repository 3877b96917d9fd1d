"""A small httpx client for the ``/v1`` API, turning every failure into a one-line :class:`CliError`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from policyhub import __version__

#: Exit codes: the server said no (1); the command could not be carried out as asked (2).
API_ERROR = 1
USAGE_ERROR = 2


class CliError(Exception):
    """A failure to report on one line of stderr, with the process exit code."""

    def __init__(self, message: str, code: int = API_ERROR) -> None:
        super().__init__(message)
        self.message = " ".join(message.split())
        self.code = code


@dataclass(frozen=True)
class Reply:
    """A successful response: status, parsed JSON body, ETag header, and whether a write changed anything
    (the ``PolicyHub-Changed`` header of policy writes; None where the server does not say)."""

    status: int
    body: Any
    etag: str | None
    changed: bool | None = None
    #: The ``Next-Page-Token`` header of a listing answered as a plain array (the versions list).
    next_page: str | None = None

    @property
    def mapping(self) -> dict[str, Any]:
        """The body, which must be a JSON object."""
        if not isinstance(self.body, dict):
            raise CliError(f"unexpected answer from the server (not an object): {str(self.body)[:80]}")
        return self.body

    @property
    def array(self) -> list[Any]:
        """The body, which must be a JSON array."""
        if not isinstance(self.body, list):
            raise CliError(f"unexpected answer from the server (not an array): {str(self.body)[:80]}")
        return self.body


def segment(value: str) -> str:
    """One URL path segment, percent-encoded.

    Names and ids never hold ``/`` (the server would route an encoded ``%2F`` as a separator) and are
    never ``.`` or ``..`` (which URL resolution rewrites), so those are usage errors.
    """
    if value in ("", ".", "..") or "/" in value:
        raise CliError(f"invalid name or id {value!r}", USAGE_ERROR)
    return quote(value, safe="")


def problem_message(response: httpx.Response) -> str:
    """``STATUS Title: detail [field: message; ...]`` from a problem+json body (or the raw text)."""
    status = response.status_code
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not ({"detail", "title"} & body.keys()):
        text = response.text.strip()[:200]
        return f"{status} {reason}" + (f": {text}" if text else "")
    title = str(body.get("title") or reason)
    detail = str(body.get("detail") or "")
    extra = [f"{field}: {msg}" for field, msg in _field_errors(body.get("errors")) if msg not in detail]
    message = f"{body.get('status') or status} {title}" + (f": {detail}" if detail else "")
    return message + (f" [{'; '.join(extra)}]" if extra else "")


def _field_errors(errors: Any) -> list[tuple[str, str]]:
    if not isinstance(errors, list):
        return []
    return [(str(e.get("field")), str(e.get("message"))) for e in errors if isinstance(e, dict)]


class ApiClient:
    """Talks to one server, for one org, with one (optional) API key."""

    def __init__(self, url: str, org: str, token: str | None, timeout: float = 30.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise CliError(f"--url must start with http:// or https://, not {url!r}", USAGE_ERROR)
        self.url = url.rstrip("/")
        self.org = org
        self.has_token = bool(token)
        headers = {"User-Agent": f"policyhub-cli/{__version__}", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)
        except httpx.InvalidURL as exc:
            raise CliError(f"invalid --url {url!r}: {exc}", USAGE_ERROR) from None

    def close(self) -> None:
        self._http.close()

    def policies(self, *parts: str) -> str:
        """The path of the org's policy collection, or of something below it."""
        return self.org_path("policies", *parts)

    def org_path(self, *parts: str) -> str:
        """``/v1/orgs/{org}`` and then ``parts``, each one percent-encoded path segment."""
        return "/".join([f"/v1/orgs/{segment(self.org)}", *(segment(p) for p in parts)])

    def listing(self, path: str, params: dict[str, Any] | None = None) -> list[Any]:
        """Every item of a listing, whether the server answers arrays (the next page's token in the
        ``Next-Page-Token`` header) or pages of ``items``."""
        reply = self.call("GET", path, params=params)
        first = reply.body
        if isinstance(first, list):
            items = list(first)
            while reply.next_page:
                reply = self.call("GET", path, params={**(params or {}), "page_token": reply.next_page})
                items += reply.body if isinstance(reply.body, list) else []
            return items
        if not isinstance(first, dict) or not isinstance(first.get("items"), list):
            raise CliError(f"unexpected answer from the server (not a listing): {str(first)[:80]}")
        items = list(first["items"])
        if first.get("next_page_token"):
            for page in self.pages(path, {**(params or {}), "page_token": first["next_page_token"]}):
                items += page.get("items", [])
        return items

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        if_match: str | None = None,
    ) -> Reply:
        """Send one request; a non-2xx answer or a transport failure raises :class:`CliError`."""
        headers = {"If-Match": if_match} if if_match else {}
        content = None
        if body is not None:
            content = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = content_type
        query = {k: v for k, v in (params or {}).items() if v is not None and v is not False}
        response = self._send(method, path, query, content, headers)
        if response.is_error:
            raise CliError(self._hint(response, problem_message(response)), API_ERROR)
        changed = response.headers.get("policyhub-changed")
        return Reply(
            response.status_code,
            self._json(response),
            response.headers.get("etag"),
            None if changed is None else changed.strip().lower() == "true",
            response.headers.get("next-page-token"),
        )

    def pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every page of a listing, from ``params["page_token"]`` on, following ``next_page_token``."""
        token = params.get("page_token")
        while True:
            page = self.call("GET", path, params={**params, "page_token": token}).mapping
            yield page
            token = page.get("next_page_token")
            if not token:
                return

    def page_items(self, path: str, params: dict[str, Any], all_pages: bool) -> tuple[list[Any], str | None]:
        """The first page's items (every page's with ``all_pages``) and the token of what is left."""
        pages = self.pages(path, params)
        page = next(pages)
        items = list(page.get("items", []))
        if all_pages:
            for page in pages:
                items += page.get("items", [])
        return items, page.get("next_page_token")

    def _send(
        self, method: str, path: str, query: dict[str, Any], content: bytes | None, headers: dict[str, str]
    ) -> httpx.Response:
        try:
            return self._http.request(method, path, params=query, content=content, headers=headers)
        except httpx.ConnectError as exc:
            raise CliError(
                f"cannot connect to PolicyHub at {self.url} ({exc}); is the server running? "
                "(set --url or POLICYHUB_URL)",
                USAGE_ERROR,
            ) from None
        except httpx.TimeoutException:
            raise CliError(f"PolicyHub at {self.url} did not answer in time", USAGE_ERROR) from None
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__}: {exc}"
            raise CliError(f"request to {self.url} failed: {problem}", USAGE_ERROR) from None

    def _json(self, response: httpx.Response) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise CliError(
                f"{self.url} answered {response.status_code} with a body that is not JSON; "
                "is --url a PolicyHub server?",
                API_ERROR,
            ) from None

    def _hint(self, response: httpx.Response, message: str) -> str:
        if response.status_code == 401 and not self.has_token:
            return f"{message} (no API key given: set POLICYHUB_TOKEN or pass --token)"
        return message
