"""The Rego sandbox: caps before parsing, budgets in worker processes, workers replaced, shared fairly, fork-safe."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import orjson
import pytest

from policyhub.sandbox import rego_worker
from policyhub.sandbox.rego import (
    RegoBudgetExceeded,
    RegoDeadline,
    RegoError,
    RegoInvalid,
    RegoLimits,
    RegoSandbox,
    RegoUnavailable,
    source_problem,
)
from policyhub.sandbox.rego_worker import Executor

GOOD = 'package p\nimport rego.v1\nallow := {"ok": count(input.x) < 3, "seen": {v | some v in input.x}}\n'
CUBIC = "package c\nimport rego.v1\nallow := count([1 | some a in input.x; some b in input.x; some c in input.x])\n"
HUNGRY = "package m\nimport rego.v1\nallow := count([i | some i in numbers.range(1, 100000000)])\n"
NESTED_202 = "package p\nx := " + "[" * 93 + "]" * 93 + "\n"


@pytest.fixture
def box() -> Iterator[RegoSandbox]:
    sandbox = RegoSandbox(RegoLimits(workers=2, eval_timeout_s=0.2))
    yield sandbox
    sandbox.close()


def worker_pids(box: RegoSandbox) -> set[int]:
    assert box._pool is not None
    return {w.process.pid for w in box._pool._idle}


def test_nesting_is_refused_before_parsing_in_linear_time() -> None:
    assert len(NESTED_202.encode()) == 202
    started = time.monotonic()
    problem = source_problem(NESTED_202, RegoLimits())
    assert problem is not None and problem.startswith("nests brackets, braces and parentheses more than 12")
    deep_but_quoted = 'package p\nx := "' + "[" * 500 + '" # ' + "{" * 500 + "\ny := [[[1]]]\n"
    assert source_problem(deep_but_quoted, RegoLimits()) is None  # strings and comments do not count
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("package p\n" + "x := 1\n" * 20_000, "has 20002 lines; at most 10000"),
        ("package p\nx := " + "1 + " * 400 + "1\n", "line 2 is 1606 characters long; at most 1024"),
        ("package p\n" + ("x := 1 # " + "a" * 1000 + "\n") * 300, "bytes long; at most 262144"),
    ],
)
def test_size_caps_are_checked_before_parsing(box: RegoSandbox, source: str, message: str) -> None:
    with pytest.raises(RegoInvalid, match=message):
        box.module({"t.rego": source})


def test_a_module_is_parsed_and_evaluated_in_a_worker(box: RegoSandbox) -> None:
    module = box.module({"t.rego": GOOD}, probe=("allow", "deny"))
    info = box.check(module)
    assert info.packages == ("data.p",) and info.rules == frozenset({"data.p.allow"}) and not info.v0
    assert box.evaluate(module, {"x": [3, 1, 2]}, rule="data.p.allow") == (True, {"ok": False, "seen": [1, 2, 3]})
    assert box.evaluate(module, {"x": []}, rule="data.p.allow") == (True, {"ok": True, "seen": []})
    assert box.evaluate(module, {}, rule="data.p.allow") == (False, None)  # undefined: count(undefined)
    assert box.out_of_process and len(worker_pids(box)) == 1


def test_a_syntax_error_says_where(box: RegoSandbox) -> None:
    with pytest.raises(RegoInvalid, match=r"^line 4, column 1: "):
        box.check(box.module({"t.rego": "package p\nallow if {\n  input.a ==\n}\n"}))


def test_a_cubic_evaluation_runs_out_of_its_time_budget_and_its_worker_is_replaced(box: RegoSandbox) -> None:
    good, cubic = box.module({"t.rego": GOOD}), box.module({"c.rego": CUBIC})
    assert box.evaluate(cubic, {"x": list(range(10))}, rule="data.c.allow") == (True, 1000)
    before = worker_pids(box)
    started = time.monotonic()
    with pytest.raises(RegoBudgetExceeded, match=r"^Rego evaluation exceeded its 200 ms time budget$"):
        box.evaluate(cubic, {"x": list(range(1000))}, rule="data.c.allow")
    assert time.monotonic() - started < 2.0
    assert not before & worker_pids(box)  # the worker that ran out was killed, not put back
    assert box.evaluate(good, {"x": [1]}, rule="data.p.allow")[1]["ok"] is True  # a new worker answers
    assert worker_pids(box) and not before & worker_pids(box)


def test_the_callers_deadline_cuts_an_evaluation_short(box: RegoSandbox) -> None:
    cubic = box.module({"c.rego": CUBIC})
    assert box.evaluate(cubic, {"x": [1]}, rule="data.c.allow", deadline=time.monotonic() + 5) == (True, 1)
    started = time.monotonic()
    with pytest.raises(RegoDeadline, match=r"^the deadline passed during Rego evaluation$"):
        box.evaluate(cubic, {"x": list(range(1000))}, rule="data.c.allow", deadline=started + 0.05)
    assert time.monotonic() - started < 0.5
    assert box.evaluate(cubic, {"x": [1]}, rule="data.c.allow") == (True, 1)  # a new worker
    pids = worker_pids(box)
    with pytest.raises(RegoDeadline, match=r"^the deadline passed before Rego evaluation$"):
        box.evaluate(cubic, {"x": [1]}, rule="data.c.allow", deadline=time.monotonic() - 1)
    assert worker_pids(box) == pids  # a caller already late costs no worker


def test_memory_beyond_the_budget_stops_the_worker(box: RegoSandbox) -> None:
    with pytest.raises(RegoBudgetExceeded, match=r"^Rego evaluation exceeded its 256 MiB memory budget$"):
        box.evaluate(box.module({"m.rego": HUNGRY}), {}, rule="data.m.allow")
    assert box.evaluate(box.module({"t.rego": GOOD}), {"x": []}, rule="data.p.allow")[0]


def test_a_slow_parse_runs_out_of_the_parse_budget() -> None:
    slow = RegoSandbox(RegoLimits(workers=1, parse_timeout_s=0.1))
    # Nesting within the cap, but many such expressions: each parses in ~10 ms (regorus's parser backtracks
    # through nested object literals), 0.6 s in all.
    source = "package p\n" + "".join(f"x{i} := " + "{1:" * 12 + "1" + "}" * 12 + "\n" for i in range(60))
    try:
        with pytest.raises(RegoBudgetExceeded, match=r"^Rego parsing exceeded its 100 ms time budget$"):
            slow.check(slow.module({"t.rego": source}))
    finally:
        slow.close()


def test_inputs_and_results_are_capped() -> None:
    small = RegoSandbox(RegoLimits(workers=1, max_input_bytes=1024, max_result_bytes=100))
    try:
        module = small.module({"t.rego": "package p\nimport rego.v1\nechoed := input\n"})
        with pytest.raises(RegoError, match="the Rego input is 2002 bytes; at most 1024"):
            small.evaluate(module, "x" * 2000, rule="data.p.echoed")
        with pytest.raises(RegoError, match="its result is larger than 100 bytes"):
            small.evaluate(module, "x" * 200, rule="data.p.echoed")
        assert small.evaluate(module, "ok", rule="data.p.echoed") == (True, "ok")
    finally:
        small.close()


def test_one_tenant_never_holds_every_worker(box: RegoSandbox) -> None:
    """Two workers: a tenant flooding them with runaway evaluations holds one; another tenant gets the other."""
    cubic, good = box.module({"c.rego": CUBIC}), box.module({"t.rego": GOOD})
    done: dict[str, float] = {}

    def hostile(n: int) -> None:
        with pytest.raises(RegoBudgetExceeded):
            box.evaluate(cubic, {"x": list(range(1000))}, rule="data.c.allow", tenant="hostile")
        done[f"hostile-{n}"] = time.monotonic()

    threads = [threading.Thread(target=hostile, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    assert box.evaluate(good, {"x": [1]}, rule="data.p.allow", tenant="other")[1]["ok"] is True
    done["other"] = time.monotonic()
    for t in threads:
        t.join()
    assert len(done) == 4
    assert done["other"] < min(v for k, v in done.items() if k.startswith("hostile"))  # it never waited


def test_a_tenants_callers_beyond_the_waiting_cap_are_refused_at_once() -> None:
    """Each waiting caller holds a server thread: a tenant whose call runs long may have only so many waiting."""
    box = RegoSandbox(RegoLimits(workers=2, eval_timeout_s=0.2, max_waiting_per_tenant=1))
    cubic, good = box.module({"c.rego": CUBIC}), box.module({"t.rego": GOOD})
    errors: list[RegoError] = []

    def runaway() -> None:
        try:
            box.evaluate(cubic, {"x": list(range(1000))}, rule="data.c.allow", tenant="hostile")
        except RegoError as exc:
            errors.append(exc)

    try:
        threads = [threading.Thread(target=runaway) for _ in range(2)]
        for thread in threads:  # the first runs, the second waits
            thread.start()
            time.sleep(0.05)
        started = time.monotonic()
        with pytest.raises(RegoUnavailable, match="1 slow Rego calls of the same tenant are already waiting"):
            box.evaluate(cubic, {"x": [1]}, rule="data.c.allow", tenant="hostile")
        assert time.monotonic() - started < 0.1
        assert box.evaluate(good, {"x": [1]}, rule="data.p.allow", tenant="other")[1]["ok"] is True
        for thread in threads:
            thread.join()
        assert [type(e) for e in errors] == [RegoBudgetExceeded, RegoBudgetExceeded]
    finally:
        box.close()


def test_the_evaluation_input_reaches_no_environment_or_files(box: RegoSandbox) -> None:
    os.environ["POLICYHUB_SECRET_FOR_TEST"] = "s3cret"
    try:
        module = box.module({"t.rego": "package p\nimport rego.v1\nr := opa.runtime()\n"})
        _, runtime = box.evaluate(module, {}, rule="data.p.r")
        assert "s3cret" not in str(runtime)
    finally:
        del os.environ["POLICYHUB_SECRET_FOR_TEST"]


def test_a_forked_child_starts_its_own_workers(box: RegoSandbox) -> None:
    module = box.module({"t.rego": GOOD})
    assert box.evaluate(module, {"x": []}, rule="data.p.allow")[0]
    parents = worker_pids(box)
    pid = os.fork()
    if pid == 0:  # the child: the parent's workers are not its own
        code = 1
        try:
            ok = box.evaluate(module, {"x": [1]}, rule="data.p.allow")[1]["ok"] is True
            code = 0 if ok and not parents & worker_pids(box) else 2
            box.close()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert worker_pids(box) == parents  # the parent's workers are untouched
    assert box.evaluate(module, {"x": [1]}, rule="data.p.allow")[0]


def test_close_ends_the_workers_and_a_later_call_starts_new_ones(box: RegoSandbox) -> None:
    module = box.module({"t.rego": GOOD})
    box.evaluate(module, {"x": []}, rule="data.p.allow")
    assert box._pool is not None
    processes = [w.process for w in box._pool._idle]
    box.close()
    assert processes and all(p.returncode is not None for p in processes)
    assert box.evaluate(module, {"x": []}, rule="data.p.allow")[0]


def test_a_worker_keeps_its_engines_within_its_source_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rego_worker, "CACHE_SOURCE_BYTES", 200)
    executor = Executor(timed=False)
    for i in range(5):
        source = f"package p{i}\nx := {i}\n" + "#" * 60 + "\n"
        assert "ok" in executor.handle({"op": "load", "key": f"k{i}", "modules": [["t.rego", source]]})
    assert executor.cached_bytes <= 200 and list(executor.engines) == ["k3", "k4"]  # the oldest went first
    assert executor.handle({"op": "eval", "key": "k0", "rule": "data.p0.x"}, b"{}") == {"missing": True}
    assert orjson.loads(orjson.dumps(executor.handle({"op": "eval", "key": "k4", "rule": "data.p4.x"}, b"{}"))) == {
        "ok": 4,
        "defined": True,
    }


def test_in_process_mode_gives_the_same_answers() -> None:
    local = RegoSandbox(RegoLimits(workers=0))
    module = local.module({"t.rego": GOOD}, probe=("allow",))
    assert not local.out_of_process
    assert local.check(module).rules == frozenset({"data.p.allow"})
    assert local.evaluate(module, {"x": [3, 1, 2]}, rule="data.p.allow") == (True, {"ok": False, "seen": [1, 2, 3]})
    assert local.evaluate(module, {"x": []}, query="data.p.allow.ok")[1]["result"][0]["expressions"][0]["value"]


def test_a_rego_value_becomes_json_once_in_the_sandbox() -> None:
    """Sets become sorted arrays and other keys their JSON text here, in both modes, so a policy type
    reads plain JSON (JFrog's results had a second copy of this; moved from its tests)."""
    assert rego_worker.jsonable({1: {3, 1}, "k": ({"b", "a"},)}) == {"1": [1, 3], "k": [["a", "b"]]}
