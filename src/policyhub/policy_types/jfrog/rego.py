"""Checks of a template's Rego source at write time: it parses, defines ``allow``, and calls only
built-ins on JFrog's allow-list.

The module is first held to the Rego sandbox's size caps (bytes, lines, line width, nesting), then parsed
by the Rego engine that evaluates it (:mod:`.program`) in a sandbox worker under the parse budget, so a
module too large, too deeply nested or too slow to parse, or a syntax error, is a 400 naming ``rego``
(a syntax error with the engine's ``line:col`` message). The allow-list check is static: comments
and string literals are blanked out, then every ``name(`` or ``a.b.c(`` call is checked: it must be
an allowed built-in or a function defined in the module itself (a rule head at the start of a line,
outside any braces). Everything else, notably ``http.send``, ``opa.runtime``, ``time.now_ns``,
``rand.*``, ``uuid.rfc4122``, ``net.lookup_ip_addr``, ``io.jwt.*`` and ``os.getenv``, is rejected
(the engine itself would run several of them).
"""

from __future__ import annotations

import re

from policyhub.errors import Unavailable
from policyhub.policy_types.jfrog.program import ENTRY_RULE, MODULE_NAME, RegoError, parse
from policyhub.sandbox.rego import RegoBudgetExceeded, RegoInvalid, RegoUnavailable, sandbox

# JFrog's "List of Valid Rego Operations", as enforced by jfrog/terraform-provider-unifiedpolicy
# (GetAllowedRegoOperations), minus time.now_ns: evaluations must be deterministic and replayable.
ALLOWED_BUILTINS: frozenset[str] = frozenset(
    {
        *("eq", "equal", "neq", "gt", "lt", "gte", "lte"),
        *("plus", "minus", "mul", "div", "abs", "round", "ceil", "floor"),
        *("concat", "contains", "endswith", "format_int", "indexof", "lower", "replace", "split"),
        *("startswith", "substring", "trim", "trim_left", "trim_prefix", "trim_right", "trim_suffix"),
        "upper",
        *("array.concat", "array.reverse", "array.slice"),
        *("set_diff", "intersection", "union"),
        *("object.get", "object.keys", "object.remove", "object.union", "object.union_n"),
        "to_number",
        *("count", "sum", "max", "min", "sort", "all", "any"),
        *("and", "or"),
        *("json.filter", "json.patch", "json.remove", "json.unmarshal"),
        *("base64.encode", "base64.decode", "base64url.encode", "base64url.decode"),
        *("urlquery.encode", "urlquery.decode"),
        *("time.parse_ns", "time.parse_rfc3339_ns", "time.parse_duration_ns"),
        *("units.parse", "units.parse_bytes"),
        *("regex.match", "regex.find_all_string_submatch_n", "regex.split"),
        "glob.match",
        *("graph.reachable", "graph.reachable_paths"),
        *("is_number", "is_string", "is_boolean", "is_array", "is_object", "is_set", "is_null"),
        "type_name",
    }
)
_KEYWORDS = frozenset(
    {"if", "else", "not", "some", "every", "in", "contains", "with", "as", "default", "import", "package"}
)
_STRIP = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`]*`|#[^\n]*')
_CALL = re.compile(r"(?<![\w.])([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*)\s*\(")
_PACKAGE = re.compile(r"^\s*package\s+[A-Za-z_][\w.]*", re.MULTILINE)


def allowed_rego_builtins() -> list[str]:
    """The built-in functions a template's Rego may call, sorted."""
    return sorted(ALLOWED_BUILTINS)


def _blank(match: re.Match[str]) -> str:
    text = match.group()
    if text.startswith("#"):
        return " " * len(text)
    return text[0] + re.sub(r"[^\n]", " ", text[1:-1]) + text[-1]


def disallowed_rego_calls(source: str) -> list[str]:
    """Names of the functions ``source`` calls that are neither allowed built-ins nor defined in it."""
    code = _STRIP.sub(_blank, source)
    defined: set[str] = set()
    calls: list[str] = []
    depth, last = 0, 0
    for match in _CALL.finditer(code):
        segment = code[last : match.start()]
        depth += sum(segment.count(c) for c in "{[(") - sum(segment.count(c) for c in "}])")
        last = match.start()
        name = re.sub(r"\s+", "", match.group(1))
        line_start = code.rfind("\n", 0, match.start()) + 1
        is_head = depth <= 0 and not code[line_start : match.start()].strip() and "." not in name
        if is_head:
            defined.add(name)
        elif name not in _KEYWORDS:
            calls.append(name)
    bad: list[str] = []
    for name in calls:
        if name not in ALLOWED_BUILTINS and name not in defined and name not in bad:
            bad.append(name)
    return bad


def rego_problems(source: str, *, tenant: str | None = None) -> list[str]:
    """Human-readable problems with a template's Rego source (empty when it passes the checks).

    Raises Unavailable (503) when no sandbox worker could take the parse."""
    try:
        sandbox().module({MODULE_NAME: source})  # the size caps, before anything reads the source further
    except RegoInvalid as exc:
        return [str(exc)]
    code = _STRIP.sub(_blank, source)
    if not _PACKAGE.search(code):
        return ["must declare a package (e.g. 'package curation.policies')"]
    try:
        parsed = parse(source, tenant=tenant)
    except RegoBudgetExceeded as exc:
        return [f"could not be parsed within its budget: {exc}"]
    except RegoUnavailable as exc:
        raise Unavailable(str(exc)) from None
    except RegoError as exc:
        return [f"is not valid Rego: {exc}"]
    problems: list[str] = []
    if ENTRY_RULE not in parsed.rules:
        problems.append(
            f"must define an {ENTRY_RULE!r} rule (JFrog evaluates {parsed.package}.{ENTRY_RULE}, an object "
            'such as {"should_allow": true, "explanation": "..."})'
        )
    bad = disallowed_rego_calls(source)
    if bad:
        problems.append(
            "uses functions that are not allowed: " + ", ".join(bad) + ". Only JFrog's valid Rego "
            "operations may be called (network, environment, time.now_ns, random and similar "
            "non-deterministic built-ins are not allowed)"
        )
    return problems
