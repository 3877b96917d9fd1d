"""Template Rego, parsed and run by a real Rego engine (regorus, from the ``gordon-to-regorus`` wheel),
inside the Rego sandbox (:mod:`policyhub.sandbox.rego`): size caps before parsing, then a worker
process with a time and memory budget per parse and per evaluation.

A :class:`RegoProgram` holds the template's source and what its parse told (dialect, package, rules);
the workers keep the parsed engines. Templates are Rego v1; a module that only parses as Rego v0
(``allow { ... }``, as in some of JFrog's own examples) is accepted and run in v0 mode.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from policyhub.sandbox.rego import (
    RegoBudgetExceeded,
    RegoDeadline,
    RegoError,
    RegoInfo,
    RegoModule,
    RegoUnavailable,
    sandbox,
)

__all__ = ["ENTRY_RULE", "PROGRAMS", "Parsed", "ProgramCache", "RegoDeadline", "RegoError", "RegoProgram", "parse"]

#: The rule JFrog's evaluation engine reads (its value: ``{"should_allow": bool, "explanation": str}``).
ENTRY_RULE = "allow"
MODULE_NAME = "template.rego"


@dataclass(frozen=True)
class Parsed:
    """What a successful parse tells: the dialect, the package (``data.curation.policies``) and whether
    it defines the entry rule (``rules``: ``{"allow"}`` or empty)."""

    v0: bool
    package: str
    rules: frozenset[str]


def _parsed(info: RegoInfo) -> Parsed:
    package = info.packages[0] if info.packages else "data"
    rules = frozenset(path.removeprefix(f"{package}.") for path in info.rules if path.startswith(f"{package}."))
    return Parsed(v0=info.v0, package=package, rules=rules)


def _module(source: str) -> RegoModule:
    return sandbox().module({MODULE_NAME: source}, probe=(ENTRY_RULE,))


def parse(source: str, *, tenant: str | None = None) -> Parsed:
    """Parse a template's Rego (v1, else v0) within the sandbox's size caps and parse budget; RegoError
    carries the engine's ``line, column`` message (RegoBudgetExceeded when the budget ran out)."""
    return _parsed(sandbox().check(_module(source), tenant=tenant))


class RegoProgram:
    """A template's Rego, ready to evaluate ``data.<package>.allow`` against an input.

    Shareable across threads. Checked when made: a module the size caps or the engine refuse raises
    RegoError here (the policy does not compile). A check that could not finish (a budget, every worker
    busy) is tried again by the next evaluation instead, so a passing overload never leaves a policy
    broken in the compiled cache.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.module = _module(source)
        self._parsed: Parsed | None = None
        with contextlib.suppress(RegoBudgetExceeded, RegoUnavailable):
            self._check(None)

    @property
    def entry(self) -> str:
        """The rule evaluated (``data.<package>.allow``; the bare name until the module was parsed)."""
        parsed = self._parsed
        return f"{parsed.package}.{ENTRY_RULE}" if parsed is not None else ENTRY_RULE

    def evaluate(self, data: dict[str, Any], *, tenant: str | None = None, deadline: float | None = None) -> Any:
        """The entry rule's value for ``data`` as the Rego input (None when undefined); raises RegoError
        (RegoDeadline when ``deadline``, a ``time.monotonic()``, passes first)."""
        parsed = self._check(tenant, deadline)
        entry = f"{parsed.package}.{ENTRY_RULE}"
        defined, value = sandbox().evaluate(self.module, data, rule=entry, tenant=tenant, deadline=deadline)
        return value if defined else None

    def _check(self, tenant: str | None, deadline: float | None = None) -> Parsed:
        parsed = self._parsed
        if parsed is None:
            parsed = _parsed(sandbox().check(self.module, tenant=tenant, deadline=deadline))
            if ENTRY_RULE not in parsed.rules:
                raise RegoError(f"the template defines no {ENTRY_RULE!r} rule in package {parsed.package}")
            self._parsed = parsed
        return parsed


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
