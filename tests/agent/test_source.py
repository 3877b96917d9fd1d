"""The agent's snapshot source: a new bundle's snapshot is built before it is swapped in (no process)."""

from __future__ import annotations

from typing import Any

import pytest

from policyhub.agent.source import Applied, BundleSource, NoState
from policyhub.domain.bundles import build_bundle, decode_bundle
from policyhub.domain.records import Policy
from policyhub.evaluation.snapshot import Entry, OrgSnapshot
from tests.agent.fake_hub import ORG_ID, allow_list_policy


def applied(ips: list[str], revision: int) -> Applied:
    bundle = build_bundle(
        org=ORG_ID,
        environment="prod",
        revision=revision,
        scopes=[],
        policies=[allow_list_policy(ips, revision)],
        resources=[],
    )
    return Applied(decode_bundle(bundle), revision)


def test_a_prebuilt_snapshot_is_handed_out_without_compiling_again() -> None:
    compiled: list[str] = []

    def compile_policy(policy: Policy, snapshot: OrgSnapshot, stamp: tuple[Any, ...]) -> Entry | None:
        compiled.append(str(policy.spec["ipList"]))
        return None

    source = BundleSource()
    first = applied(["10.0.0.0/8"], 1)
    assert source.prebuild(ORG_ID, first) is False  # the engine has not passed its compile path yet
    with pytest.raises(NoState):  # nothing applied: no decision on nothing
        source.snapshot(ORG_ID, None, compile_policy)
    source.apply(first)
    held = source.snapshot(ORG_ID, None, compile_policy)
    assert source.snapshot(ORG_ID, held, compile_policy) is held and compiled == ["['10.0.0.0/8']"]

    second = applied(["192.168.0.0/16"], 2)
    assert source.prebuild(ORG_ID, second) is True  # compiled now, while decisions use ``held``
    assert compiled[-1] == "['192.168.0.0/16']" and len(compiled) == 2
    source.apply(second)
    swapped = source.snapshot(ORG_ID, held, compile_policy)
    assert swapped is not held and swapped.seq == 2 and len(compiled) == 2  # no second compile at the swap
