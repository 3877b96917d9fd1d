"""Apinizer variables (VariableDTO) compiled into getters over an ``http_request`` input.

A getter takes the :class:`~policyhub.evaluation.compiled.Evaluation` and returns the variable's value as
text, a ``datetime`` (``CURRENT_TIME``/``CURRENT_DATE``), or None when the request has no such value.
Everything that can be prepared is prepared once per policy version (lower-cased header names,
parsed JSON paths, path templates); a parsed body is shared by the policies of one decision.

Sources, by ``type``:
- ``HEADER``: ``headers[headerName]`` (case-insensitive).
- ``PARAMETER``: ``QUERY`` (the default) ``query[paramName]`` (first value); ``PATH`` the segment named
  ``paramName`` of the template ``paramPath`` (``/users/{id}``) matched at the end of the request path,
  else ``path_params[paramName]``; ``FORM`` the form field ``formName``/``paramName`` of the body (a
  JSON object or an urlencoded string).
- ``BODY``: JSON bodies by JSON path (``jsonPathValue``/``bodyJsonPath``: ``$``, ``.name``, ``['name']``,
  ``[index]``, ``[*]``/``.*``); XML bodies (a string) by a simple XPath (``/a/b``, ``//b``, ``[@x='y']``,
  a final ``/@attr`` or ``/text()``); form bodies like ``PARAMETER``/``FORM``.
- ``CONTEXT_VALUES``: a value the gateway put in ``input.context`` under ``contextValue`` wins; else the
  request's own: ``CLIENT_IP``/``REQUEST_REMOTE_ADDRESS``, ``REQUEST_METHOD``, ``REQUEST_PATH``,
  ``REQUEST_URI`` (path and query), ``REQUEST_QUERY_STRING``, ``REQUEST_HOST``, ``USER_NAME``/``USER_ID``
  (``input.user``), ``CURRENT_TIME``/``CURRENT_DATE`` (the decision time, in ``zoneId``, default UTC).
- ``CUSTOM``, ``SCRIPT`` and variables initialised by a script: PolicyHub runs no scripts; the gateway
  passes the value it computed in ``input.variables`` under the variable's ``name`` (or ``id``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from policyhub.evaluation.compiled import Evaluation
from policyhub.policy_types.apinizer.bodies import compile_json_path, form_fields, json_body, xml_getter
from policyhub.sandbox.regex import SafePattern, compile_pattern, escape

if TYPE_CHECKING:
    from policyhub.evaluation.inputs.http_request import HttpRequestInput
    from policyhub.policy_types.apinizer.common import Variable

Getter = Callable[[Evaluation], Any]


def compile_variable(variable: Variable) -> Getter:
    """A getter for ``variable``; raises ValueError for what cannot be evaluated (a bad JSON path)."""
    if variable.type in ("CUSTOM", "SCRIPT") or variable.initWithScript:
        name = variable.name or variable.id
        if name is None:
            raise ValueError(f"a {variable.type} variable needs a name (its value comes from input.variables)")
        return lambda ev: _input(ev).variables.get(name)
    if variable.type == "HEADER":
        header = (variable.headerName or "").lower()
        return lambda ev: _input(ev).headers.get(header)
    if variable.type == "PARAMETER":
        return _parameter(variable)
    if variable.type == "BODY":
        return _body(variable)
    return _context(variable)


def text(value: Any) -> str | None:
    """A variable's value as text (None stays None; JSON values keep their JSON spelling)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _input(evaluation: Evaluation) -> HttpRequestInput:
    return cast("HttpRequestInput", evaluation.input)


# -- parameters ---------------------------------------------------------------------------------------
def _parameter(variable: Variable) -> Getter:
    name = variable.paramName or ""
    if variable.paramType == "PATH":
        template = _path_template(variable.paramPath, name) if variable.paramPath else None

        def path_param(ev: Evaluation) -> Any:
            inp = _input(ev)
            if template is not None:
                found = template.search_groups(inp.path.split("?", 1)[0])
                if found is not None:
                    return next(iter(found), None)
            return inp.path_params.get(name)

        return path_param
    if variable.paramType == "FORM":
        field = variable.formName or name
        return lambda ev: form_fields(ev).get(field)
    return lambda ev: _input(ev).query_value(name)


def _path_template(template: str, name: str) -> SafePattern:
    """``/users/{id}`` -> a pattern (RE2: linear in the path) matching a path that ends with it, whose one
    group captures the placeholder ``name`` (its first occurrence), else the first placeholder. Only
    one group: RE2 finds a match with its DFA, but captures each group with a slower automaton."""
    parts = re.split(r"\{([^{}/]+)\}", template.rstrip("/") or "/")
    names = parts[1::2]
    read = names.index(name) if name in names else 0
    pattern = "".join(
        escape(part) if i % 2 == 0 else ("([^/]+)" if i // 2 == read else "[^/]+") for i, part in enumerate(parts)
    )
    return compile_pattern(pattern + "/?$", captures=True)


def _body(variable: Variable) -> Getter:
    if variable.messageContentType == "XML":
        return xml_getter(variable.xpathValue or variable.bodyXPath or "/")
    if variable.messageContentType == "FORM":
        field = variable.formName or variable.paramName or ""
        return lambda ev: form_fields(ev).get(field)
    path = compile_json_path(variable.jsonPathValue or variable.bodyJsonPath or "$")
    return lambda ev: path(json_body(ev))


# -- context values --------------------------------------------------------------------------------
def _context(variable: Variable) -> Getter:
    name = variable.contextValue or ""
    builtin = _BUILTIN_CONTEXT.get(name)
    zone = _zone(variable.zoneId)
    if name in ("CURRENT_TIME", "CURRENT_DATE"):

        def clock(ev: Evaluation) -> Any:
            given = _input(ev).context.get(name)
            if given is not None:
                return text(given)
            moment = datetime.fromtimestamp(ev.now, zone)
            return moment if name == "CURRENT_TIME" else moment.replace(hour=0, minute=0, second=0, microsecond=0)

        return clock

    def context_value(ev: Evaluation) -> Any:
        inp = _input(ev)
        given = inp.context.get(name)
        if given is not None:
            return text(given)
        return builtin(inp) if builtin is not None else None

    return context_value


def _zone(zone_id: str | None) -> tzinfo:
    if not zone_id:
        return UTC
    offset = re.fullmatch(r"([+-])(\d{1,2}):?(\d{2})", zone_id)
    if offset:
        sign = -1 if offset.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3))))
    try:
        return ZoneInfo(zone_id)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown zoneId {zone_id!r}") from None


def _query_string(inp: HttpRequestInput) -> str:
    return urlencode([(k, v) for k, vs in inp.query.items() for v in (vs if isinstance(vs, list) else [vs])])


def _uri(inp: HttpRequestInput) -> str:
    query = _query_string(inp)
    return f"{inp.path}?{query}" if query and "?" not in inp.path else inp.path


_BUILTIN_CONTEXT: dict[str, Callable[[HttpRequestInput], Any]] = {
    "CLIENT_IP": lambda inp: inp.client_ip,
    "REQUEST_REMOTE_ADDRESS": lambda inp: inp.client_ip,
    "REQUEST_METHOD": lambda inp: inp.method,
    "REQUEST_PATH": lambda inp: inp.path.split("?", 1)[0],
    "REQUEST_URI": _uri,
    "REQUEST_QUERY_STRING": _query_string,
    "REQUEST_HOST": lambda inp: inp.headers.get("host"),
    "USER_NAME": lambda inp: inp.user,
    "USER_ID": lambda inp: inp.user,
}
