"""Tenant Rego, parsed and evaluated under limits: any modules + data, an input, a rule or a query.

Bounds, stated once for every caller (JFrog templates today, a generic ``rego`` type and AuthZEN later):

- **Size, before parsing** (:func:`source_problem`, linear): total bytes, lines, line width, and the
  nesting of brackets, braces and parentheses outside strings and comments. regorus's parser backtracks
  exponentially through nested array and object literals (x2-3 per level: 18 levels 0.3-0.6 s, 24
  levels 20-50 s; 25x that with ``RUST_BACKTRACE`` set, as every backtracking step then captures a
  backtrace, which is how a 202-byte module took 7.4 s); 12 levels parse in about 10 ms. Inputs and
  results have byte caps too.
- **Time and memory, while parsing and evaluating**: in a worker process (:mod:`.rego_pool`) with an
  address-space limit, a CPU-time budget per parse and per evaluation that the kernel enforces, and a
  deadline its caller waits with; a budget exceeded is :class:`RegoBudgetExceeded` and the worker is
  replaced. Each worker keeps parsed engines by the modules' hash, so a template is parsed once per
  worker, not per evaluation.
- **No I/O**: the worker runs with an empty environment (so no ``RUST_BACKTRACE`` either), no inherited
  descriptors but its pipes, and regorus's ``http.send`` is a stub (callers with an allow-list of
  built-ins still apply it).

Blocking: call :meth:`RegoSandbox.check` and :meth:`RegoSandbox.evaluate` off the event loop (a compiled
policy that uses this declares ``uses = {"sandbox"}``). ``workers=0`` evaluates in the calling process
instead, without the time and memory bounds (for measurements only).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import re
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from policyhub.sandbox.rego_pool import PoolBusy, Worker, WorkerDied, WorkerPool, WorkerTimeout
from policyhub.sandbox.rego_worker import Executor


@dataclass(frozen=True)
class RegoLimits:
    """The budgets of Rego a tenant wrote (``POLICYHUB_REGO_*`` settings)."""

    workers: int = 2
    parse_timeout_s: float = 1.0
    eval_timeout_s: float = 0.25
    memory_mib: int = 256
    max_source_bytes: int = 256 * 1024
    max_lines: int = 10_000
    max_line_chars: int = 1024
    max_nesting: int = 12
    max_input_bytes: int = 4 << 20
    max_result_bytes: int = 1 << 20
    #: How long a call waits for a free worker before it is an error, and how many calls of one tenant
    #: whose oldest call has run long may wait at once (each holds a server thread while it waits;
    #: beyond that a call fails at once).
    queue_timeout_s: float = 2.0
    max_waiting_per_tenant: int = 4


class RegoError(Exception):
    """Rego that was refused or failed; its message says why (an evaluation error denies)."""


class RegoInvalid(RegoError):
    """Modules the engine or the size caps refuse (a 400 naming the field when written)."""


class RegoBudgetExceeded(RegoError):
    """A parse or an evaluation that ran out of its time or memory budget."""


class RegoUnavailable(RegoError):
    """No worker could take the call (all busy past the queue timeout, or one failed unexpectedly)."""


class RegoDeadline(RegoError):
    """The caller's own deadline (e.g. its decision's) passed before the call was answered."""


@dataclass(frozen=True)
class RegoInfo:
    """What a successful parse tells: the dialect, the packages (``data.a.b``), and which of the rule
    names the caller asked about are rules (as ``data.a.b.name`` paths)."""

    v0: bool
    packages: tuple[str, ...]
    rules: frozenset[str]


@dataclass(eq=False)
class RegoModule:
    """Modules (name -> source), static data and dialect (None: v1, else v0 if it only reads as v0),
    checked against the size caps; ``key`` identifies them in every worker's engine cache."""

    modules: tuple[tuple[str, str], ...]
    data: Any = None
    v0: bool | None = None
    #: Rule names whose presence the check reports (e.g. ``("allow",)``).
    probe: tuple[str, ...] = ()
    key: str = ""
    info: RegoInfo | None = field(default=None, repr=False)
    headers: dict[tuple[Any, ...], bytes] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha256(orjson.dumps([self.modules, self.data, self.v0], option=orjson.OPT_SORT_KEYS))
        self.key = digest.hexdigest()


_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"?|`[^`]*`?|#[^\n]*|[\[\]{}()]')
_OPEN = frozenset("[{(")


def source_problem(source: str, limits: RegoLimits) -> str | None:
    """Why ``source`` is refused before it is parsed (too large, too long a line, nested too deeply), or None.

    Linear: one pass over its tokens (strings and comments skipped whole, so a bracket inside one does
    not count)."""
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > limits.max_source_bytes:
        return f"is {size} bytes long; at most {limits.max_source_bytes} are allowed"
    lines = source.count("\n") + 1
    if lines > limits.max_lines:
        return f"has {lines} lines; at most {limits.max_lines} are allowed"
    for number, line in enumerate(source.split("\n"), 1):
        if len(line) > limits.max_line_chars:
            return f"line {number} is {len(line)} characters long; at most {limits.max_line_chars} are allowed"
    depth = 0
    for token in _TOKEN.finditer(source):
        char = token.group()
        if char in _OPEN:
            depth += 1
            if depth > limits.max_nesting:
                return (
                    f"nests brackets, braces and parentheses more than {limits.max_nesting} levels deep "
                    f"(line {source.count(chr(10), 0, token.start()) + 1}); split the expression into rules "
                    "or functions"
                )
        elif char in ")]}":
            depth = max(0, depth - 1)
    return None


class RegoSandbox:
    """Parses and evaluates :class:`RegoModule` s within :class:`RegoLimits` (thread-safe)."""

    def __init__(self, limits: RegoLimits | None = None) -> None:
        self.limits = limits or RegoLimits()
        self._pool = (
            WorkerPool(self.limits.workers, self.limits.memory_mib << 20, self.limits.max_waiting_per_tenant)
            if self.limits.workers
            else None
        )
        self._local = threading.local()

    @property
    def out_of_process(self) -> bool:
        return self._pool is not None

    def module(
        self, modules: Mapping[str, str], data: Any = None, v0: bool | None = None, probe: tuple[str, ...] = ()
    ) -> RegoModule:
        """The modules, checked against the size caps (raises RegoInvalid naming the module)."""
        for name, source in modules.items():
            problem = source_problem(source, self.limits)
            if problem is not None:
                raise RegoInvalid(problem if len(modules) == 1 else f"module {name!r} {problem}")
        if data is not None:
            size = len(_encode(data))
            if size > self.limits.max_input_bytes:
                raise RegoInvalid(f"its data is {size} bytes; at most {self.limits.max_input_bytes} are allowed")
        return RegoModule(tuple(modules.items()), data, v0, probe)

    def check(self, module: RegoModule, *, tenant: str | None = None, deadline: float | None = None) -> RegoInfo:
        """Parse ``module`` within the parse budget (raises RegoInvalid, RegoBudgetExceeded, RegoUnavailable,
        RegoDeadline when ``deadline``, a ``time.monotonic()``, passes first); the info tells which of the
        module's ``probe`` names are rules of its packages."""
        if module.info is not None:
            return module.info
        if self._pool is None:
            return self._load(self._executor(), module, deadline)
        worker = self._acquire(tenant, deadline)
        try:
            return self._load(worker, module, deadline)
        finally:
            self._pool.release(worker, tenant)

    def evaluate(
        self,
        module: RegoModule,
        input: Any,
        *,
        rule: str | None = None,
        query: str | None = None,
        tenant: str | None = None,
        deadline: float | None = None,
    ) -> tuple[bool, Any]:
        """``(defined, value)`` of ``rule`` (``data.pkg.name``) or ``query`` with ``input`` (a JSON value);
        raises RegoError (RegoBudgetExceeded when a budget ran out, RegoDeadline when the caller's
        ``deadline``, a ``time.monotonic()``, passed first). ``tenant`` shares the workers fairly."""
        if (rule is None) == (query is None):
            raise ValueError("evaluate needs exactly one of rule and query")
        encoded = _encode(input)
        if len(encoded) > self.limits.max_input_bytes:
            raise RegoError(
                f"the Rego input is {len(encoded)} bytes; at most {self.limits.max_input_bytes} are evaluated"
            )
        target = ("rule", rule) if rule is not None else ("query", query)
        cached = (*target, self.limits.eval_timeout_s, self.limits.max_result_bytes)
        header = module.headers.get(cached)
        if header is None:  # the same for every evaluation of this rule within these limits: made once
            request = {
                "op": "eval",
                "key": module.key,
                "budget_s": self.limits.eval_timeout_s,
                "max_result": self.limits.max_result_bytes,
                target[0]: target[1],
            }
            header = module.headers[cached] = orjson.dumps(request) + b"\n"
        lines = (header, encoded + b"\n")
        if self._pool is None:
            executor = self._executor()
            answer = _roundtrip(executor.handle(orjson.loads(header), encoded))
            if answer.get("missing"):
                self._load(executor, module, deadline)
                answer = _roundtrip(executor.handle(orjson.loads(header), encoded))
            return _value(answer)
        worker = self._acquire(tenant, deadline)
        try:
            if module.key not in worker.loaded:
                self._load(worker, module, deadline)
            answer = self._call(worker, lines, "evaluation", deadline)
            if answer.get("missing"):  # the worker evicted it: load it again
                worker.loaded.discard(module.key)
                self._load(worker, module, deadline)
                answer = self._call(worker, lines, "evaluation", deadline)
            return _value(answer)
        finally:
            self._pool.release(worker, tenant)

    def close(self) -> None:
        """End this process's workers (a later call starts new ones)."""
        if self._pool is not None:
            self._pool.close()

    # -- internals --------------------------------------------------------------------------------

    def _load(self, runner: Worker | Executor, module: RegoModule, deadline: float | None) -> RegoInfo:
        request = {
            "op": "load",
            "key": module.key,
            "modules": module.modules,
            "data": module.data,
            "v0": module.v0,
            "probe": module.probe,
            "lengths": (self.limits.max_line_chars, self.limits.max_source_bytes, self.limits.max_lines),
            "budget_s": self.limits.parse_timeout_s,
        }
        if isinstance(runner, Executor):
            answer = runner.handle(request)
        else:
            answer = self._call(runner, (orjson.dumps(request) + b"\n",), "parsing", deadline)
        if "error" in answer:
            raise RegoInvalid(str(answer["error"]))
        found = answer["ok"]
        info = RegoInfo(bool(found["v0"]), tuple(found["packages"]), frozenset(found["rules"]))
        if isinstance(runner, Worker):
            runner.loaded.add(module.key)
        module.info = info
        return info

    def _call(self, worker: Worker, lines: tuple[bytes, ...], what: str, deadline: float | None) -> dict[str, Any]:
        budget = self.limits.parse_timeout_s if what == "parsing" else self.limits.eval_timeout_s
        # The CPU-time budget is the worker's own; the wall-clock deadline leaves room for a busy machine.
        now = time.monotonic()
        own = now + 2 * budget + 0.2
        if deadline is not None and deadline <= now:  # too late already: the worker stays as it is
            raise RegoDeadline(f"the deadline passed before Rego {what}")
        try:
            answer = worker.call(lines, own if deadline is None else min(own, deadline))
        except WorkerTimeout:
            if deadline is not None and deadline < own:
                raise RegoDeadline(f"the deadline passed during Rego {what}") from None
            raise RegoBudgetExceeded(f"Rego {what} exceeded its {_ms(budget)} time budget") from None
        except WorkerDied as died:
            raise self._died(died.returncode, what, budget) from None
        if answer.get("kind") in ("memory", "crashed"):
            worker.kill()  # it exits after such an answer: never hand it out again
        if answer.get("kind") == "memory":
            raise RegoBudgetExceeded(f"Rego {what} exceeded its {self.limits.memory_mib} MiB memory budget")
        return answer

    def _died(self, returncode: int | None, what: str, budget: float) -> RegoError:
        if returncode in (-signal.SIGPROF, -signal.SIGXCPU):
            return RegoBudgetExceeded(f"Rego {what} exceeded its {_ms(budget)} time budget")
        if returncode in (-signal.SIGABRT, -signal.SIGKILL, -signal.SIGSEGV, 3):
            return RegoBudgetExceeded(f"Rego {what} exceeded its {self.limits.memory_mib} MiB memory budget")
        return RegoUnavailable(f"the Rego worker failed during {what} (exit status {returncode})")

    def _acquire(self, tenant: str | None, deadline: float | None) -> Worker:
        assert self._pool is not None
        queued = time.monotonic() + self.limits.queue_timeout_s
        try:
            return self._pool.acquire(tenant, queued if deadline is None else min(queued, deadline))
        except PoolBusy as busy:
            if time.monotonic() < queued and (deadline is None or time.monotonic() < deadline):
                raise RegoUnavailable(f"the Rego workers are busy: {busy}") from None
            if deadline is not None and deadline < queued:
                raise RegoDeadline("the deadline passed while waiting for a Rego worker") from None
            raise RegoUnavailable(
                f"every Rego worker stayed busy for {self.limits.queue_timeout_s:g} s; try again"
            ) from None
        except OSError as exc:
            raise RegoUnavailable(f"a Rego worker could not be started: {exc}") from None

    def _executor(self) -> Executor:
        # regorus engines may not cross threads: each thread has its own executor in this mode.
        executor: Executor | None = getattr(self._local, "executor", None)
        if executor is None:
            executor = self._local.executor = Executor(timed=False)
        return executor


def _encode(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, default=str).encode()


def _roundtrip(answer: dict[str, Any]) -> dict[str, Any]:
    """An in-process answer as the pool would give it (the value through JSON)."""
    decoded: dict[str, Any] = orjson.loads(orjson.dumps(answer))
    return decoded


def _value(answer: dict[str, Any]) -> tuple[bool, Any]:
    if "error" in answer:
        raise RegoError(str(answer["error"]))
    return bool(answer["defined"]), answer["ok"]


def _ms(seconds: float) -> str:
    return f"{round(seconds * 1000)} ms"


_sandbox: RegoSandbox | None = None
_guard = threading.Lock()


def configure(limits: RegoLimits) -> RegoSandbox:
    """Use ``limits`` from now on (the composition root calls this with the settings)."""
    global _sandbox
    with _guard:
        if _sandbox is not None and _sandbox.limits == limits:
            return _sandbox
        previous, _sandbox = _sandbox, RegoSandbox(limits)
    if previous is not None:
        previous.close()
    return _sandbox


def sandbox() -> RegoSandbox:
    """The process's sandbox (default limits until :func:`configure` is called)."""
    global _sandbox
    found = _sandbox
    if found is None:
        with _guard:
            if _sandbox is None:
                _sandbox = RegoSandbox()
            found = _sandbox
    return found


def shutdown() -> None:
    """End the process's Rego workers (app shutdown; also run at interpreter exit)."""
    if _sandbox is not None:
        _sandbox.close()


atexit.register(shutdown)
