"""7. Schema-driven fuzzing: schemathesis against PolicyHub's own OpenAPI (core and seed APIs).

Every operation of ``/openapi.json`` is exercised with the schema's examples, then fuzzed, then in
stateful sequences; the checks are ``not_a_server_error`` and ``response_schema_conformance`` (every
documented response body matches its schema). Real identifiers (the org, a policy with two versions)
are supplied so that the fuzzer reaches past 404s. ``DELETE /keys/{key_id}`` is left out: the fuzzer
would find the only admin key's id in ``GET /keys`` and revoke it, ending its own run (scenario 6
covers that route). The coverage phase is not used: with this Python it stops on an internal
hypothesis error (``AST constructor recursion depth mismatch``) that is not the server's.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from reliability.context import Context
from reliability.fixtures import servers
from reliability.report import Checks, Result, Status
from reliability.servers import ORG, TOKEN

CHECKS = "not_a_server_error,response_schema_conformance"
EXCLUDED = "revoke_key_v1_orgs__org__keys__key_id__delete"


def _schemathesis() -> str | None:
    exe = Path(sys.executable).parent / "schemathesis"
    return str(exe) if exe.exists() else None


def _tally(report: Path) -> tuple[int, Counter[str], list[str]]:
    """(test cases, failures per check, examples of failures) from schemathesis' NDJSON report."""
    cases = 0
    failures: Counter[str] = Counter()
    examples: list[str] = []
    for line in report.read_text().splitlines():
        event: dict[str, Any] = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished:
            for kind in ("NonFatalError", "FatalError"):
                if kind in event:
                    failures[f"error: {kind}"] += 1
                    examples.append(f"{kind}: {str(event[kind])[:300]}")
            continue
        recorder = finished.get("recorder", {})
        cases += len(recorder.get("cases", {}))
        for case_id, results in recorder.get("checks", {}).items():
            for check in results:
                if check.get("status") == "failure":
                    failures[check["name"]] += 1
                    if len(examples) < 10:
                        value = recorder.get("cases", {}).get(case_id, {}).get("value", {})
                        examples.append(
                            f"{check['name']}: {value.get('method')} {value.get('path')} "
                            f"{str(check.get('failure_info', ''))[:300]}"
                        )
    return cases, failures, examples


def run(ctx: Context) -> list[Result]:
    title = "schema-driven fuzzing"
    exe = _schemathesis()
    if exe is None:
        return [
            Result("7", title, ctx.backend.name, "schemathesis is not installed (pip install -e '.[dev]')", Status.SKIP)
        ]
    checks = Checks()
    url = ctx.backend.new_database("fuzz")
    examples_n = ctx.pick(5, 50)
    workdir = ctx.workdir / f"fuzz-{ctx.backend.name}"
    workdir.mkdir(parents=True, exist_ok=True)
    with servers(ctx, url, 1, label="fuzz") as (server,):
        with server.client() as c:
            created = c.post("/policies", json={"name": "fuzz-target", "type": "document", "spec": {"n": 1}})
            created.raise_for_status()
            c.patch(
                "/policies/fuzz-target",
                json={"spec": {"n": 2}},
                headers={"Content-Type": "application/merge-patch+json"},
            ).raise_for_status()
            c.post("/scopes", json={"kind": "workspace", "key": "fuzz-ws"}).raise_for_status()
        config = workdir / "schemathesis.toml"
        config.write_text(
            f'[parameters]\n"path.org" = "{ORG}"\n"path.ref" = "{created.json()["id"]}"\n"path.number" = 1\n'
        )
        report = workdir / "report.ndjson"
        args = [
            exe,
            "--config-file",
            str(config),
            "run",
            f"{server.url}/openapi.json",
            "-H",
            f"Authorization: Bearer {TOKEN}",
            "--checks",
            CHECKS,
            "--max-examples",
            str(examples_n),
            "--phases",
            "examples,fuzzing,stateful",
            "--exclude-operation-id",
            EXCLUDED,
            "--seed",
            str(ctx.seed),
            "--workers",
            "2",
            "--no-shrink",
            "--request-timeout",
            "30",
            "--suppress-health-check",
            "all",
            "--report",
            "ndjson",
            "--report-ndjson-path",
            str(report),
        ]
        done = subprocess.run(args, capture_output=True, text=True, timeout=ctx.pick(300, 900), cwd=workdir)
        checks.expect(server.alive(), "the server died")
    cases, failures, examples = _tally(report) if report.exists() else (0, Counter[str](), [])
    checks.problems += examples
    server_errors = failures["not_a_server_error"]
    schema_violations = failures["response_schema_conformance"]
    other = sum(failures.values()) - server_errors - schema_violations
    checks.expect(done.returncode == 0, f"schemathesis exited {done.returncode}: {done.stdout[-600:]}")
    checks.expect(cases > 0, "schemathesis ran no test case")
    tested = re.search(r"Tested: (\d+)", done.stdout)
    figures = (
        f"max examples={examples_n}/operation; phases examples, fuzzing, stateful; test cases={cases}; "
        f"server errors={server_errors}; response-schema violations={schema_violations}; other failures={other}; "
        f"operations tested={tested.group(1) if tested else '?'}"
    )
    return [checks.result("7", title, ctx.backend.name, figures)]
