"""The Rego worker: parses and evaluates tenant Rego (regorus) under a CPU-time and a memory limit.

:mod:`.rego_pool` starts it as ``python -I rego_worker.py MEMORY_BYTES``. It imports nothing of
PolicyHub (only the standard library, orjson and regorus), runs with an empty environment and ``/`` as
its working directory, and bounds itself with what the kernel enforces even when regorus holds the
GIL: ``RLIMIT_AS`` (an allocation beyond it aborts the process) and, around every parse and every
evaluation, an ``ITIMER_PROF`` timer whose ``SIGPROF`` (default action: terminate) kills the process
once the call has used its CPU-time budget. The parent also waits with a deadline and kills it then.

Protocol: one JSON request per line on stdin, one JSON answer per line on stdout.

- ``{"op": "load", "key", "modules": [[name, source]], "data", "v0": bool|null, "probe": [name],
  "lengths": [columns, bytes, lines], "budget_s"}``: parse (Rego v1; with ``v0`` null, a module that
  only reads as v0 is parsed again as v0), keep the engine under ``key``; answers ``{"ok": {"v0",
  "packages", "rules"}}`` (``rules``: the ``data.<package>.<name>`` paths of the probed names that are
  rules) or ``{"error", "kind": "invalid"}``.
- ``{"op": "eval", "key", "rule"|"query", "budget_s", "max_result"}`` followed by one line, the input
  as JSON: answers ``{"ok": value, "defined": bool}`` (the value as JSON), ``{"missing": true}`` (not
  loaded here: send a ``load``) or ``{"error", "kind": "runtime"|"memory"|"crashed"}``.
  After ``memory`` or ``crashed`` the worker exits: the next call gets a fresh process.

:class:`Executor` is the same code run in the serving process when the pool is off (no bounds then).
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import sys
from collections import OrderedDict
from typing import Any


def _limit_memory(memory: int) -> None:
    if memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


if __name__ == "__main__":
    # Before regorus is imported: its allocator reserves a 1 GiB arena at import when it may, and a
    # limit set below what is already mapped would leave no room for anything else.
    _limit_memory(int(sys.argv[1]))

import orjson  # noqa: E402
import regorus  # noqa: E402

#: How regorus (in v1 mode) says that a module is written in Rego v0.
V0_HINT = "`if` keyword is required"
#: Engines kept per worker (by the key of their modules, data and dialect), and the source bytes they
#: may hold together: an engine takes ~55x its source in memory (3.5 MB for 64 KB), so 2 MiB of source
#: stays well inside the worker's address-space limit.
CACHE_SIZE = 256
CACHE_SOURCE_BYTES = 2 << 20
_WHERE = re.compile(r"-->\s*[^\n:]*:(?P<line>\d+):(?P<col>\d+)")
_ERROR = re.compile(r"^error:(?P<message>.*)$", re.MULTILINE)


class InvalidModule(Exception):
    """The engine refused a module (syntax, or a limit of its own)."""


def engine_message(exc: BaseException) -> str:
    """regorus's message on one line (``line 5, column 7: divide by zero``), without the source excerpt
    and the Rust backtrace it appends."""
    text = str(exc).split("Stack backtrace:", 1)[0].strip()
    where = _WHERE.search(text)
    said = _ERROR.search(text)
    if where and said:
        return f"line {where['line']}, column {where['col']}: {said['message'].strip()}"
    return " ".join(text.split()) or type(exc).__name__


def _is_engine_error(exc: BaseException) -> bool:
    # PanicException (a BaseException) is what a Rust panic surfaces as: an error of the call, not ours.
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def jsonable(value: Any) -> Any:
    """A Rego value as JSON: sets become sorted arrays, non-string object keys their JSON text."""
    if isinstance(value, dict):
        return {k if isinstance(k, str) else json.dumps(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        items = [jsonable(v) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def rule_paths(engine: Any, packages: list[str], names: list[str]) -> list[str]:
    """The ``package.name`` paths among ``packages`` x ``names`` that are rules of the loaded modules.

    Asked of the engine (an unknown path is "not a valid rule path"; a known one is evaluated once, with
    no input, within the load's budget), not read from ``get_ast_as_json``: the AST as JSON is indented
    per level, so it grows with the square of an expression's depth (a 1 KB chain of ``+`` gives 3 MB).
    """
    found = []
    for package in packages:
        for name in names:
            path = f"{package}.{name}"
            try:
                engine.eval_rule(path)
            except BaseException as exc:
                if not _is_engine_error(exc):
                    raise
                if "not a valid rule path" in str(exc):
                    continue
            found.append(path)
    return found


class Executor:
    """Loads modules into engines (cached by key) and evaluates them; ``timed`` arms the CPU-time timer."""

    def __init__(self, *, timed: bool, cache_size: int = CACHE_SIZE) -> None:
        self.timed = timed
        self.cache_size = cache_size
        self.engines: OrderedDict[str, tuple[Any, int]] = OrderedDict()  # key -> (engine, source bytes)
        self.cached_bytes = 0

    def handle(self, request: dict[str, Any], input_json: bytes | None = None) -> dict[str, Any]:
        try:
            if request["op"] == "load":
                return self.load(request)
            return self.evaluate(request, input_json or b"null")
        except MemoryError:
            return {"error": "out of memory", "kind": "memory"}
        except BaseException as exc:
            if not _is_engine_error(exc):
                raise
            return {"error": engine_message(exc), "kind": "crashed"}

    def load(self, request: dict[str, Any]) -> dict[str, Any]:
        modules = [(str(name), str(source)) for name, source in request["modules"]]
        v0 = request.get("v0")
        try:
            with self._budget(request):
                try:
                    engine, packages = self._engine(modules, request, bool(v0))
                    read_v0 = bool(v0)
                except InvalidModule as v1_error:
                    # Only a module that reads as v0 (a rule body without ``if``) is tried again as v0,
                    # and then told about its v0 mistakes; anything else is told about v1's.
                    if v0 is not None or V0_HINT not in str(v1_error):
                        raise
                    engine, packages = self._engine(modules, request, True)
                    read_v0 = True
                rules = rule_paths(engine, packages, [str(n) for n in request.get("probe") or ()])
        except InvalidModule as exc:
            return {"error": str(exc), "kind": "invalid"}
        self._forget(request["key"])
        size = sum(len(source) for _, source in modules)
        self.engines[request["key"]] = (engine, size)
        self.cached_bytes += size
        while len(self.engines) > 1 and (
            len(self.engines) > self.cache_size or self.cached_bytes > CACHE_SOURCE_BYTES
        ):
            self._forget(next(iter(self.engines)))
        return {"ok": {"v0": read_v0, "packages": packages, "rules": rules}}

    def evaluate(self, request: dict[str, Any], input_json: bytes) -> dict[str, Any]:
        cached = self.engines.get(request["key"])
        if cached is None:
            return {"missing": True}
        engine = cached[0]
        self.engines.move_to_end(request["key"])
        rule, query = request.get("rule"), request.get("query")
        message = ""
        try:
            with self._budget(request):
                engine.set_input_json(input_json.decode())
                result = engine.eval_rule(rule) if rule is not None else engine.eval_query(str(query))
                value = jsonable(result)
        except MemoryError:
            raise
        except BaseException as exc:
            if not _is_engine_error(exc):
                raise
            message = engine_message(exc)
        if message:
            return {"error": message, "kind": "runtime"}
        encoded = _dumps(value)
        limit = request.get("max_result")
        if limit is not None and len(encoded) > limit:
            return {"error": f"its result is larger than {limit} bytes", "kind": "runtime"}
        return {"ok": orjson.Fragment(encoded), "defined": result is not None}

    def _forget(self, key: str) -> None:
        dropped = self.engines.pop(key, None)
        if dropped is not None:
            self.cached_bytes -= dropped[1]

    def _engine(self, modules: list[tuple[str, str]], request: dict[str, Any], v0: bool) -> tuple[Any, list[str]]:
        engine = regorus.Engine()
        message = ""
        packages: list[str] = []
        data = request.get("data")
        try:
            lengths = request.get("lengths")
            if lengths:  # the caller checked them already; the engine's own check is a second line
                engine.set_policy_length_config(max_col=lengths[0], max_file_bytes=lengths[1], max_lines=lengths[2])
            if v0:
                engine.set_rego_v0(True)
            for name, source in modules:
                packages.append(str(engine.add_policy(name, source)))
            if data is not None:
                engine.add_data(data)
        except BaseException as exc:
            if not _is_engine_error(exc):
                raise
            message = engine_message(exc)
        if message:
            del engine  # dropped here, in its own thread, before the error travels anywhere
            raise InvalidModule(message)
        return engine, packages

    def _budget(self, request: dict[str, Any]) -> _CpuBudget:
        return _CpuBudget(float(request.get("budget_s") or 0) if self.timed else 0.0)


class _CpuBudget:
    """Arms ``ITIMER_PROF`` for the block: past ``seconds`` of CPU time the kernel ends the process."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __enter__(self) -> None:
        if self.seconds > 0:
            signal.setitimer(signal.ITIMER_PROF, self.seconds)

    def __exit__(self, *exc: object) -> None:
        if self.seconds > 0:
            signal.setitimer(signal.ITIMER_PROF, 0)


def _dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):  # e.g. an integer beyond 64 bits
        return json.dumps(value).encode()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C of the server: the server stops us
    signal.signal(signal.SIGPROF, signal.SIG_DFL)
    executor = Executor(timed=True)
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    while True:
        line = requests.readline()
        if not line:
            return  # the server closed the pipe (or exited)
        request = orjson.loads(line)
        input_json = requests.readline() if request.get("op") == "eval" else None
        answer = executor.handle(request, input_json)
        answers.write(_dumps(answer) + b"\n")
        answers.flush()
        if answer.get("kind") in ("memory", "crashed"):
            os._exit(3)  # a fresh process rather than one whose heap hit the limit or whose engine panicked


if __name__ == "__main__":
    main()
