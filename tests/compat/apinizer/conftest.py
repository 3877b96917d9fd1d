"""Fixtures for the Apinizer dialect tests."""

from __future__ import annotations

import pytest

from tests.conftest import OrgClient

from .helpers import Apinizer, setup_org


@pytest.fixture
def api(org: OrgClient) -> Apinizer:
    return setup_org(org)
