from __future__ import annotations

import pytest

from .helpers import FakeContext


@pytest.fixture
def ctx() -> FakeContext:
    return FakeContext(references={("jfrog.rule", "rule-12345")})
