"""ASGI entry point of ``policyhub agent``: ``uvicorn --factory policyhub.http.agent.asgi:create``.

The command line's options arrive as ``POLICYHUB_AGENT_*`` variables, the hub key as ``POLICYHUB_TOKEN``.
"""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI

from policyhub.agent.config import AgentSettings
from policyhub.agent.runtime import Agent
from policyhub.http.agent.app import create_agent_app
from policyhub.http.asgi import tune_gc
from policyhub.logging import configure
from policyhub.settings import get_settings


def create() -> FastAPI:
    settings = get_settings()
    configure(settings.log_level, settings.log_json)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per long poll and status report
    agent = Agent(AgentSettings.from_environment(), os.environ.get("POLICYHUB_TOKEN", ""), settings)
    app = create_agent_app(agent)
    tune_gc()
    return app
