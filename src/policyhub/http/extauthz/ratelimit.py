"""Envoy's rate limit service request as an ``http_request`` decision (pure; no gRPC types here).

**Domain.** ``<org>`` or ``<org>/<scope path>``: the org (its slug or id, which must be the key's org)
and the scope whose policies apply (omitted: the org level only).

**Descriptors.** One ``ShouldRateLimit`` call is one request of the proxy: the entries of all its
descriptors are merged, in order, into **one** ``http_request`` input and decided **once**, so a
request is counted once by each PolicyHub rate limit, whose own identity (a header, the user, the
client IP) picks its counter. An entry's key names the field it fills:

====================  ============================================================
``remote_address``    ``client_ip`` (Envoy's ``remote_address`` action)
``client_ip``         ``client_ip``
``user``              ``user``
``method``            ``method``
``path``              ``path`` (a query string in it becomes ``query``)
any other key         ``headers[key]`` (lower-cased; Envoy's ``request_headers``
                      action with ``descriptor_key: x-api-key`` gives the header
                      back its name) and ``variables[key]``
====================  ============================================================

A later entry with the same key wins. Every descriptor's status is the decision's: ``OVER_LIMIT`` when
it denies (a denial by a non-rate-limit policy, such as an IP list, is ``OVER_LIMIT`` too: the rate
limit service has no other way to refuse), with the tightest rate limit's ``current_limit``,
``limit_remaining`` and ``duration_until_reset``. ``hits_addend`` is not honoured: a call counts one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from policyhub.http.extauthz.translate import parse_query

FIELDS = {"remote_address": "client_ip", "client_ip": "client_ip", "user": "user", "method": "method", "path": "path"}
#: Window lengths Envoy's ``RateLimit.Unit`` can name (other windows are reported as ``UNKNOWN``).
UNITS = {1: "SECOND", 60: "MINUTE", 3600: "HOUR", 86_400: "DAY", 7 * 86_400: "WEEK"}
MAX_ENTRIES = 64
MAX_VALUE_CHARS = 8192


def split_domain(domain: str) -> tuple[str, str | None]:
    """``acme`` -> (``acme``, None); ``acme/shop/api`` -> (``acme``, ``shop/api``)."""
    org, _, scope = domain.strip().partition("/")
    return org, scope.strip("/") or None


def descriptor_input(descriptors: Iterable[Iterable[tuple[str, str]]]) -> dict[str, Any]:
    """The ``http_request`` input of a call's descriptors (each a list of ``(key, value)`` entries)."""
    data: dict[str, Any] = {"headers": {}, "variables": {}}
    count = 0
    for entries in descriptors:
        for key, value in entries:
            count += 1
            if count > MAX_ENTRIES:
                raise ValueError(f"at most {MAX_ENTRIES} descriptor entries per call")
            if len(value) > MAX_VALUE_CHARS:
                raise ValueError(f"descriptor entry {key!r}: a value of at most {MAX_VALUE_CHARS} characters")
            field = FIELDS.get(key)
            if field == "path":
                path, _, query = value.partition("?")
                data["path"] = path or "/"
                data["query"] = parse_query(query)
            elif field == "method":
                data["method"] = value.upper()
            elif field is not None:
                data[field] = value
            else:
                data["headers"][key.lower()] = value
                data["variables"][key] = value
    return data


def unit_of(window_s: float) -> str:
    return UNITS.get(round(window_s), "UNKNOWN")
