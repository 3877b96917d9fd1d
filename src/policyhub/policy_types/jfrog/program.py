"""Template Rego, parsed and run by a real Rego engine (regorus, from the ``gordon-to-regorus`` wheel).

A regorus ``Engine`` is *unsendable*: touching it from any thread but the one that created it panics,
and dropping it on another thread leaks it with an unraisable error. So an engine never leaves its
thread: :class:`RegoProgram` holds only the source, and each thread builds its own engine from it on
first use and keeps it in a thread-local cache (evicted, and so dropped, by that same thread). Engines
made to check a template are created and dropped within one call.

Templates are Rego v1; a module that only parses as Rego v0 (``allow { ... }``, as in some of JFrog's
own examples) is accepted and run in v0 mode.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import regorus

#: The rule JFrog's evaluation engine reads (its value: ``{"should_allow": bool, "explanation": str}``).
ENTRY_RULE = "allow"
_THREAD_CACHE_SIZE = 256
#: How regorus (in v1 mode) says that a module is written in Rego v0.
V0_HINT = "`if` keyword is required"
_local = threading.local()
_WHERE = re.compile(r"-->\s*[^\n:]*:(?P<line>\d+):(?P<col>\d+)")
_ERROR = re.compile(r"^error:(?P<message>.*)$", re.MULTILINE)


class RegoError(Exception):
    """The Rego engine refused a module or failed while evaluating it."""


@dataclass(frozen=True)
class Parsed:
    """What a successful parse tells: the dialect, the package (``data.curation.policies``) and the
    names of the rules the module defines."""

    v0: bool
    package: str
    rules: frozenset[str]


def engine_message(exc: BaseException) -> str:
    """regorus's message on one line (``line 5, column 7: divide by zero``), without the source excerpt
    and the Rust backtrace it appends when ``RUST_BACKTRACE`` is set."""
    text = str(exc).split("Stack backtrace:", 1)[0].strip()
    where = _WHERE.search(text)
    said = _ERROR.search(text)
    if where and said:
        return f"line {where['line']}, column {where['col']}: {said['message'].strip()}"
    return " ".join(text.split()) or type(exc).__name__


def _is_engine_error(exc: BaseException) -> bool:
    # PanicException (a BaseException) is what a Rust panic surfaces as; it must never escape as a 500.
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _load(source: str, *, v0: bool) -> tuple[Any, str]:
    """A new engine holding ``source``, and the package it declares (raises RegoError)."""
    engine = regorus.Engine()
    message = ""
    package = ""
    try:
        if v0:
            engine.set_rego_v0(True)
        package = str(engine.add_policy("template.rego", source))
    except BaseException as exc:
        if not _is_engine_error(exc):
            raise
        message = engine_message(exc)
    if message:
        del engine  # dropped here, in its own thread, before the error travels anywhere
        raise RegoError(message)
    return engine, package


def parse(source: str) -> Parsed:
    """Parse a template's Rego (v1, else v0); RegoError carries the engine's ``file:line:col`` message."""
    try:
        engine, package = _load(source, v0=False)
        v0 = False
    except RegoError as v1_error:
        # Only a module that reads as v0 (a rule body without ``if``) is tried again as v0, and then
        # told about its v0 mistakes; anything else is told about v1's.
        if V0_HINT not in str(v1_error):
            raise
        engine, package = _load(source, v0=True)
        v0 = True
    try:
        rules = _rule_names(engine.get_ast_as_json())
    except BaseException as exc:
        if not _is_engine_error(exc):
            raise
        rules = None
    del engine
    return Parsed(v0=v0, package=package, rules=frozenset(rules) if rules is not None else frozenset({ENTRY_RULE}))


def _rule_names(ast_json: str) -> set[str] | None:
    """The top-level names the module's rules define (None when the AST is not in the expected form)."""
    try:
        modules = json.loads(ast_json)
        names: set[str] = set()
        for module in modules:
            for rule in module["ast"]["rules"]:
                kind, body = next(iter(rule.items()))
                head = body["refr"] if kind == "Default" else next(iter(body["head"].values()))["refr"]
                while "RefDot" in head or "RefBrack" in head:
                    head = (head.get("RefDot") or head["RefBrack"])["refr"]
                names.add(head["Var"]["value"])
        return names
    except (ValueError, KeyError, TypeError, StopIteration, AttributeError):
        return None


class RegoProgram:
    """A template's Rego, ready to evaluate ``data.<package>.allow`` against an input.

    Immutable and shareable across threads (it holds no engine); :meth:`evaluate` uses the calling
    thread's own engine for this source.
    """

    def __init__(self, source: str) -> None:
        parsed = parse(source)
        if ENTRY_RULE not in parsed.rules:
            raise RegoError(f"the template defines no {ENTRY_RULE!r} rule in package {parsed.package}")
        self.source = source
        self.v0 = parsed.v0
        self.package = parsed.package
        self.entry = f"{parsed.package}.{ENTRY_RULE}"
        self._key = (source, parsed.v0)

    def evaluate(self, data: dict[str, Any]) -> Any:
        """The entry rule's value for ``data`` as the Rego input (None when undefined); raises RegoError."""
        engine = self._engine()
        message = ""
        result: Any = None
        try:
            engine.set_input(data)
            result = engine.eval_rule(self.entry)
        except BaseException as exc:
            if not _is_engine_error(exc):
                raise
            message = engine_message(exc)
        del engine
        if message:
            raise RegoError(message)
        return result

    def _engine(self) -> Any:
        cache: OrderedDict[tuple[str, bool], Any] | None = getattr(_local, "engines", None)
        if cache is None:
            cache = _local.engines = OrderedDict()
        engine = cache.get(self._key)
        if engine is None:
            engine, _ = _load(self.source, v0=self.v0)
            cache[self._key] = engine
            if len(cache) > _THREAD_CACHE_SIZE:
                cache.popitem(last=False)
        elif len(cache) > 1:
            cache.move_to_end(self._key)
        return engine


class ProgramCache:
    """Programs by source text, shared by every policy whose rule uses the same template Rego."""

    def __init__(self, max_entries: int = 1024) -> None:
        self._items: OrderedDict[str, RegoProgram] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, source: str) -> RegoProgram:
        with self._lock:
            found = self._items.get(source)
            if found is not None:
                self._items.move_to_end(source)
                return found
        program = RegoProgram(source)  # outside the lock: parsing may take a while
        with self._lock:
            self._items[source] = program
            while len(self._items) > self._max:
                self._items.popitem(last=False)
        return program


PROGRAMS = ProgramCache()
