"""The serving process's entry point: the app it builds and the garbage-collector set-up it applies."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from policyhub.http import asgi
from policyhub.settings import get_settings


@pytest.fixture
def gc_restored() -> Iterator[None]:
    saved = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*saved)


@pytest.mark.usefixtures("gc_restored")
def test_create_builds_the_app_and_freezes_the_start_up_heap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYHUB_DATABASE_URL", f"sqlite:///{tmp_path / 'asgi.db'}")
    get_settings.cache_clear()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    try:
        app = asgi.create()
        try:
            assert app.state.container.db.url.endswith("asgi.db")
            assert gc.get_freeze_count() > 10_000  # modules, the app and its routes: everything built so far
            assert gc.get_threshold() == (asgi.GC_YOUNG_THRESHOLD, 50, 100)
        finally:
            app.state.container.db.dispose()
    finally:
        get_settings.cache_clear()


@pytest.mark.usefixtures("gc_restored")
def test_tune_gc_keeps_larger_older_generation_thresholds() -> None:
    gc.set_threshold(700, 80, 500)
    asgi.tune_gc()
    assert gc.get_threshold() == (asgi.GC_YOUNG_THRESHOLD, 80, 500)
