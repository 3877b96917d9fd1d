"""Pure translations between a proxy's authorization check and the ``http_request`` decision point.

Shared by the HTTP face (Envoy's ``http_service``, nginx ``auth_request``) and the gRPC face (Envoy's
``Authorization/Check`` and ``RateLimitService/ShouldRateLimit``): no I/O here.

**The request** (:func:`http_request_input`): the proxy's view of the original request becomes an
``http_request`` input:

- ``method``: the original method (Envoy's HTTP service and nginx send it as the check's own method;
  gRPC: ``attributes.request.http.method``).
- ``path`` and ``query``: the original path without its query string, and the query parsed into
  ``{name: value}`` (a repeated name: a list of values).
- ``headers``: every header the proxy forwarded, names lower-cased; PolicyHub's own credential
  (:data:`KEY_HEADER`) and the check's transport headers are never part of it.
- ``client_ip`` (:func:`client_ip`): the peer the proxy saw. gRPC: ``source.address``; HTTP: the
  **last** ``X-Forwarded-For`` entry (the one the proxy in front of PolicyHub appended: Envoy with
  ``use_remote_address``, nginx's ``$proxy_add_x_forwarded_for``), else ``X-Real-IP``, else None.
  Earlier ``X-Forwarded-For`` entries are what the client claimed and are never believed.
- ``user``: the first of :data:`USER_HEADERS` present (set by the proxy from the identity it
  authenticated, e.g. oauth2-proxy's ``X-Auth-Request-User``; the proxy must not forward a client's own).
- ``body``: the forwarded body when there is one (JSON when declared JSON and valid, else text).

**The answer** (:func:`verdict`): allow and warn pass (200, with the headers the policies add); a deny
is 429 when every denying policy is a rate limit (throttling: ``Retry-After``), else 403. The headers:
those of ``headers`` obligations (e.g. Apinizer's ``X-RateLimit-*``), plus ``RateLimit-Limit``,
``RateLimit-Remaining`` and ``RateLimit-Reset`` (seconds) of the most restrictive ``rate_limit``
obligation, plus ``X-PolicyHub-Decision`` and ``X-PolicyHub-Decision-Id``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from policyhub.evaluation.outcome import Decision, DecisionResult, Effect

POINT = "http_request"
#: The header (HTTP) or metadata key (gRPC) carrying the PolicyHub API key of the enforcement point.
KEY_HEADER = "x-policyhub-key"
#: Headers naming the authenticated caller, in order of preference.
USER_HEADERS = ("x-policyhub-user", "x-forwarded-user", "x-auth-request-user")
#: Headers of the check itself, not of the original request.
TRANSPORT_HEADERS = frozenset({KEY_HEADER, "content-length", "transfer-encoding", "connection", "keep-alive"})
MAX_REASONS = 5


@dataclass(frozen=True, slots=True)
class OriginalRequest:
    """What a proxy tells about the request it holds."""

    method: str
    path: str  # with its query string, as received
    headers: Mapping[str, str]  # names lower-case
    peer_ip: str | None = None  # the address the proxy saw (gRPC's source.address); HTTP: from the headers
    body: bytes | str | None = None


def http_request_input(request: OriginalRequest) -> dict[str, Any]:
    """The ``http_request`` input of ``request`` (see the module docstring for every field)."""
    path, _, query = request.path.partition("?")
    headers = {name: value for name, value in request.headers.items() if name not in TRANSPORT_HEADERS}
    out: dict[str, Any] = {
        "method": request.method.upper(),
        "path": path or "/",
        "headers": headers,
        "query": parse_query(query),
        "client_ip": request.peer_ip or client_ip(headers),
    }
    user = next((headers[name] for name in USER_HEADERS if headers.get(name)), None)
    if user is not None:
        out["user"] = user
    body = parsed_body(request.body, headers.get("content-type"))
    if body is not None:
        out["body"] = body
    return out


def parse_query(query: str) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        seen = out.get(name)
        if seen is None:
            out[name] = value
        elif isinstance(seen, list):
            seen.append(value)
        else:
            out[name] = [seen, value]
    return out


def client_ip(headers: Mapping[str, str]) -> str | None:
    """The last ``X-Forwarded-For`` entry (appended by the proxy that asks), else ``X-Real-IP``."""
    forwarded = headers.get("x-forwarded-for", "")
    last = forwarded.rsplit(",", 1)[-1].strip()
    if last:
        return last[:64]
    real = headers.get("x-real-ip", "").strip()
    return real[:64] or None


def parsed_body(body: bytes | str | None, content_type: str | None) -> Any:
    if not body:
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if content_type and "json" in content_type.lower():
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def joined_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header pairs as one lower-cased name each; repeated names joined with ``", "`` (RFC 9110 5.3)."""
    out: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


# -- the answer -----------------------------------------------------------------------------------------
@dataclass(slots=True)
class Verdict:
    """What the proxy is told: pass (with headers), or refuse with a status, headers and a body."""

    allowed: bool
    status: int  # 200, 403 or 429
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    #: The most restrictive rate limit's state, when a rate limit took part (the RLS answer reads it).
    rate: dict[str, Any] | None = None

    @property
    def throttled(self) -> bool:
        return self.status == 429


def verdict(result: DecisionResult) -> Verdict:
    """The proxy's answer to a decision (see the module docstring)."""
    allowed = result.decision is not Decision.DENY
    rate = _tightest_rate(result.obligations)
    headers: dict[str, str] = {}
    for obligation in result.obligations:
        if obligation.get("type") == "headers" and isinstance(obligation.get("headers"), dict):
            headers.update({str(k): str(v) for k, v in obligation["headers"].items()})
    denying = [r for r in result.results if r.effect is Effect.DENY]
    throttled = not allowed and bool(denying) and all(_is_rate_limit(r.obligations) for r in denying)
    if rate is not None:
        headers["RateLimit-Limit"] = str(rate.get("limit", ""))
        headers["RateLimit-Remaining"] = str(rate.get("remaining", ""))
        headers["RateLimit-Reset"] = str(math.ceil(float(rate.get("reset_after_s") or 0)))
    if throttled:
        retry = max((float(o.get("retry_after_s") or 0) for o in result.obligations if _is_rate(o)), default=1.0)
        headers["Retry-After"] = str(max(1, math.ceil(retry)))
    headers["X-PolicyHub-Decision"] = result.decision._value_
    if result.id:
        headers["X-PolicyHub-Decision-Id"] = result.id
    status = 200 if allowed else 429 if throttled else 403
    body: dict[str, Any] = {}
    if not allowed:
        reasons = [reason for r in denying for reason in r.reasons]
        body = {
            "decision": "deny",
            "status": status,
            "reasons": reasons[:MAX_REASONS],
            "policies": [r.name for r in denying],
            "decision_id": result.id,
        }
    return Verdict(allowed, status, headers, body, rate)


def _is_rate(obligation: Mapping[str, Any]) -> bool:
    return obligation.get("type") == "rate_limit"


def _is_rate_limit(obligations: list[dict[str, Any]]) -> bool:
    """A result that denies because a counter ran out (its rate-limit obligation has nothing remaining)."""
    return any(_is_rate(o) and o.get("remaining") == 0 for o in obligations)


def _tightest_rate(obligations: list[dict[str, Any]]) -> dict[str, Any] | None:
    rates = [o for o in obligations if _is_rate(o)]
    if not rates:
        return None
    return min(rates, key=lambda o: (int(o.get("remaining") or 0), -float(o.get("reset_after_s") or 0)))
