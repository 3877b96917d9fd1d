"""How fast each load generator can go against the cheapest possible server (bench.stub)."""

from __future__ import annotations

import subprocess
import sys
import time

from bench import loadgen, wrkgen
from bench.cpu import tree_cpu_s
from bench.payloads import RequestSpec
from bench.server import free_port
from bench.stats import Result


def measure(client: str, connections: int, seconds: float = 2.0, wrk_threads: int = 2) -> Result:
    port = free_port()
    stub = subprocess.Popen([sys.executable, "-m", "bench.stub", str(port), str(seconds + 90)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert stub.stdout is not None
        stub.stdout.readline()  # "ready"
        spec = RequestSpec("GET", ("/healthz",))
        title = f"{client} client -> stub server"
        if client == "wrk":
            return wrkgen.run_load(title, "127.0.0.1", port, spec, connections=connections, warmup_s=0.5,
                                   seconds=seconds, counter_base=0, server_cpu=lambda: tree_cpu_s(stub.pid),
                                   threads=wrk_threads)
        return loadgen.run_load(title, "127.0.0.1", port, spec, connections=connections, warmup_s=0.5,
                                seconds=seconds, counter_base=0, server_cpu=lambda: tree_cpu_s(stub.pid))
    finally:
        stub.terminate()
        try:
            stub.wait(timeout=10)
        except subprocess.TimeoutExpired:
            stub.kill()
            stub.wait(timeout=10)


def per_core(r: Result) -> float:
    """Requests per second per core of client CPU: the client's capacity, robust to a busy machine."""
    return r.rate / (r.cpu.client / 100) if r.cpu and r.cpu.client > 0 else r.rate


def choose(requested: str, connections: int, wrk_threads: int) -> tuple[str, list[Result], str]:
    """The client to use, the capacity figures behind the choice, and why.

    Compared on requests per client-CPU-core (not raw rate, which on a 2-core machine depends on
    who else is running): wrk is used only when it is notably (>= 1.5x) cheaper per request.
    """
    results = [measure("python", connections)]
    have_wrk = wrkgen.available() is not None
    if requested == "python":
        return "python", results, "requested with --client python"
    if not have_wrk:
        if requested == "wrk":
            raise SystemExit("--client wrk given but wrk is not installed (apt-get install -y wrk)")
        return "python", results, "wrk not installed: using the built-in Python client"
    time.sleep(0.2)
    results.append(measure("wrk", connections, wrk_threads=wrk_threads))
    py, wrk = results[0], results[1]
    if requested == "wrk":
        return "wrk", results, "requested with --client wrk"
    gain = per_core(wrk) / max(per_core(py), 1.0)
    figures = f"{per_core(py):.0f} vs {per_core(wrk):.0f} req/s per client core"
    if gain >= 1.5:
        return "wrk", results, f"wrk does {gain:.1f}x the Python client's requests per CPU ({figures})"
    return "python", results, f"wrk is not notably cheaper per request: {gain:.2f}x ({figures})"
