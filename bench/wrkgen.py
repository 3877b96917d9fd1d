"""Optional load generator: ``wrk`` (C, epoll) driven by a generated Lua script.

Each wrk thread owns ``connections / threads`` connections and round-robins over its own slice of
the scenario's paths, so with one path per connection the slices do not overlap between threads.
Every request's body carries a fresh counter. wrk has no warm-up phase, so a warm-up run precedes
the measured one. Figures come from the script's ``done`` callback as one JSON line.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.cpu import CpuSnapshot, CpuUse, machine_busy_s
from bench.payloads import RequestSpec
from bench.stats import Result

_LUA = r"""
local method = %(method)s
local paths = {%(paths)s}
local headers = {%(headers)s}
local prefix = %(prefix)s
local suffix = %(suffix)s
local per = %(per)d
local base_counter = %(base)d
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

function init(args)
  counter = 0
  first = tid * per
end

function request()
  counter = counter + 1
  local path = paths[((first + (counter %% per)) %% #paths) + 1]
  local h = {}
  for k, v in pairs(headers) do h[k] = v end
  if prefix then
    local n = base_counter + counter * 64 + tid
    return wrk.format(method, path, h, prefix .. string.format("%%d", n) .. suffix)
  end
  return wrk.format(method, path, h, nil)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p99_us":%%d,"max_us":%%d,' ..
    '"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def available() -> str | None:
    return shutil.which("wrk")


def _lua_str(value: bytes | str) -> str:
    text = value.decode() if isinstance(value, bytes) else value
    return "[==[" + text + "]==]"


def script(spec: RequestSpec, connections: int, threads: int, counter_base: int) -> str:
    prefix, suffix = spec.body_parts or (None, None)
    return _LUA % {
        "method": _lua_str(spec.method),
        "paths": ", ".join(_lua_str(p) for p in spec.paths),
        "headers": ", ".join(f"[ {_lua_str(k)} ] = {_lua_str(v)}" for k, v in spec.headers.items()),
        "prefix": _lua_str(prefix) if prefix is not None else "nil",
        "suffix": _lua_str(suffix) if suffix is not None else "nil",
        "per": max(1, connections // threads),
        "base": counter_base,
    }


def _wrk(url: str, lua: Path, connections: int, threads: int, seconds: float) -> subprocess.Popen[str]:
    exe = available() or "wrk"
    cmd = [exe, "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
           "--timeout", "30s", "-s", str(lua), url]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run_load(
    name: str, host: str, port: int, spec: RequestSpec, *, connections: int, warmup_s: float, seconds: float,
    counter_base: int, server_cpu: Callable[[], float], threads: int = 2,
) -> Result:
    threads = max(1, min(threads, connections))
    url = f"http://{host}:{port}"
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        if warmup_s > 0:
            warm = Path(tmp) / "warm.lua"
            warm.write_text(script(spec, connections, threads, counter_base))
            proc = _wrk(url, warm, connections, threads, warmup_s)
            proc.communicate(timeout=warmup_s + 60)
        lua = Path(tmp) / "run.lua"
        lua.write_text(script(spec, connections, threads, counter_base + 10**12))
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        before = CpuSnapshot(server_cpu(), children.ru_utime + children.ru_stime, machine_busy_s())
        started = time.perf_counter()
        proc = _wrk(url, lua, connections, threads, seconds)
        out, _ = proc.communicate(timeout=seconds + 60)
        wall = time.perf_counter() - started
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        after = CpuSnapshot(server_cpu(), children.ru_utime + children.ru_stime, machine_busy_s())
    line = next((x for x in out.splitlines() if x.startswith("BENCHJSON ")), None)
    if line is None:
        return Result(name, seconds, errors=1, first_error=f"wrk failed: {out[-300:]}")
    data = json.loads(line.split(" ", 1)[1])
    socket_errors = data["connect"] + data["read"] + data["write"] + data["timeout"]
    errors = data["status"] + socket_errors
    statuses: Counter[str] = Counter()
    if data["status"]:
        statuses[">=400"] = data["status"]
    if socket_errors:
        statuses["socket"] = socket_errors
    duration = data["duration_us"] / 1e6
    result = Result(name, duration, ok=max(0, data["requests"] - data["status"]), errors=errors,
                    p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000, max_ms=data["max_us"] / 1000,
                    statuses=statuses)
    result.cpu = CpuUse.between(before, after, wall)
    return result
