"""ASGI entry point for uvicorn workers: ``uvicorn --factory policyhub.http.asgi:create``."""

from __future__ import annotations

from fastapi import FastAPI

from policyhub.http.app import create_app
from policyhub.logging import configure
from policyhub.settings import get_settings


def create() -> FastAPI:
    settings = get_settings()
    configure(settings.log_level, settings.log_json)
    return create_app(settings)
