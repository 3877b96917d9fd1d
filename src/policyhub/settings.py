"""Runtime settings, read once from the environment (prefix ``POLICYHUB_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_PATH = Path("var") / "policyhub.db"


class Settings(BaseSettings):
    """Every tunable of the service in one typed place."""

    model_config = SettingsConfigDict(env_prefix="POLICYHUB_", extra="ignore")

    database_url: str = Field(default=f"sqlite:///{DEFAULT_SQLITE_PATH}")
    host: str = "127.0.0.1"
    port: int = Field(default=8181, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    threads: int = Field(default=40, ge=1, le=256)

    bootstrap_org: str | None = None
    bootstrap_token: str | None = None

    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_json_depth: int = Field(default=64, ge=4, le=1000)
    max_page_size: int = Field(default=500, ge=1)
    default_page_size: int = Field(default=50, ge=1)

    # Connections kept open per process: as many as requests that can use one at once (the thread
    # pool's 40), so a burst never opens and closes connections. Lower it for PostgreSQL with many replicas.
    db_pool_size: int = Field(default=40, ge=1)
    db_connect_timeout_s: float = Field(default=3.0, gt=0)
    # How long a write waits for another process's SQLite write lock before answering 503: below 5 s,
    # so that even a write queued behind a waiting one is refused within 5 s.
    sqlite_busy_timeout_ms: int = Field(default=3000, ge=0)
    sqlite_group_commit: bool = True
    # PostgreSQL: concurrent /v1 policy writes of one org share a transaction (see storage.group_commit).
    postgres_group_commit: bool = True
    retry_after_s: int = Field(default=2, ge=1)

    key_touch_interval_s: float = Field(default=60.0, ge=0)
    auth_cache_ttl_s: float = Field(default=2.0, ge=0, le=60)
    # Decisions: how often a replica re-checks an org's policy state (the staleness bound, seconds),
    # the shared counter store for rate limits (Redis URL; unset = this process's memory), the judge.
    decision_refresh_s: float = Field(default=0.25, ge=0, le=60)
    redis_url: str | None = None
    judge_url: str | None = None
    judge_model: str = "gpt-4o-mini"
    judge_api_key: str | None = None
    judge_timeout_s: float = Field(default=5.0, gt=0, le=120)
    decision_log: bool = True
    # Every warn and deny decision (and every allow with a recorded violation) is logged; of the plain
    # allows, this share (1%: a gateway's allows are the bulk of its traffic; 1.0 keeps every one).
    decision_log_sample_allow: float = Field(default=0.01, ge=0, le=1)
    decision_log_input: Literal["none", "redacted", "full"] = "redacted"

    log_level: str = "INFO"
    log_json: bool = True
    access_log: bool = True

    @field_validator("bootstrap_token")
    @classmethod
    def _token_strong_enough(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 24:
            raise ValueError("POLICYHUB_BOOTSTRAP_TOKEN must be at least 24 characters")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()
