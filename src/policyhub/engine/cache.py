"""Compiled policies, cached by (policy, revision, referenced resources) so each is compiled once."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from policyhub.evaluation.compiled import CompiledPolicy

Key = tuple[str, int, tuple[Any, ...]]


class CompiledCache:
    """A bounded LRU map shared by every org of the process.

    The key holds the policy's revision (which moves on every change, content or metadata) and the
    last change of each resource the policy references (a JFrog rule and its parameters), so a stale
    compiled form is never found under a current key. What a referenced resource
    itself refers to (a JFrog rule's template) is the compiled policy's own concern: the JFrog evaluator
    compares the template's last change on each evaluation and recompiles when it moved.
    """

    def __init__(self, max_entries: int = 50_000) -> None:
        self._items: OrderedDict[Key, CompiledPolicy] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()
        self.compiled = 0  # how many compilations ran (a test and metrics figure)

    def get(self, key: Key) -> CompiledPolicy | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Key, compiled: CompiledPolicy) -> None:
        with self._lock:
            self.compiled += 1
            self._items[key] = compiled
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
