"""Runtime settings, read once from the environment (prefix ``POLICYHUB_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
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
    # Envoy's ext_authz Check and rate limit service on a gRPC listener in the serving process (the grpc extra).
    grpc_port: int | None = Field(default=None, ge=1, le=65535)

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

    # Budgets of tenant content and of the decision log (issue 11): operations per JSON Patch (the
    # patched document is bounded by max_body_bytes); bytes kept of a logged input and of its results
    # (cut with a marker beyond); bytes of decision-log rows returned in one page.
    max_patch_operations: int = Field(default=1000, ge=1)
    decision_log_max_input_bytes: int = Field(default=16 * 1024, ge=256)
    decision_log_max_results_bytes: int = Field(default=16 * 1024, ge=256)
    decision_log_page_bytes: int = Field(default=4 * 1024 * 1024, ge=64 * 1024)

    # Audit chain MAC key(s), kept outside the database (comma-separated, signing key first); or a file of them.
    audit_key: SecretStr | None = None
    audit_key_file: Path | None = None

    # Rollout (issue 13): the Ed25519 seed (base64, 32 bytes) that signs bundles, or a file holding it (the
    # same on every replica); an agent is live while its last report is younger than agent_live_s; an
    # Apinizer `deploy: true` waits at most deploy_wait_s for the target environments' agents to apply.
    bundle_signing_key: SecretStr | None = None
    bundle_signing_key_file: Path | None = None
    agent_live_s: float = Field(default=30.0, gt=0, le=3600)
    deploy_wait_s: float = Field(default=10.0, ge=0, le=120)

    # When set, /metrics answers only requests with "Authorization: Bearer <metrics_token>" (else 401).
    metrics_token: SecretStr | None = Field(default=None, min_length=16)
    # Where clients reach us: response URLs start with it (default http://<host>:<port>), never the Host header.
    public_base_url: str | None = Field(default=None, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")

    # A decision's budgets (engine/limits.py): a deadline across its policies and judge calls (a policy
    # not evaluated by then denies), reasons and details kept per result, bytes of all results together.
    decision_deadline_s: float = Field(default=2.0, gt=0, le=120)
    decision_max_reasons: int = Field(default=100, ge=1)
    decision_max_reason_bytes: int = Field(default=1024, ge=64)
    decision_max_details_bytes: int = Field(default=16 * 1024, ge=256)
    decision_max_response_bytes: int = Field(default=1024 * 1024, ge=4096)
    # Judge calls in flight at once per org, and the judge's own threads (never the request pool's).
    judge_concurrency_per_org: int = Field(default=4, ge=1, le=64)
    judge_threads: int = Field(default=16, ge=1, le=256)
    # Live rate-limit counters kept per org (memory and Redis): an org over it evicts only its own.
    ratelimit_keys_per_org: int = Field(default=100_000, ge=1)

    # Tenant Rego (sandbox/rego.py): worker processes (0 = in this process, unbounded: measurements only),
    # CPU-time budgets per parse and per evaluation, memory per worker, caps checked before parsing.
    rego_workers: int = Field(default=2, ge=0, le=64)
    rego_parse_timeout_s: float = Field(default=1.0, gt=0, le=60)
    rego_eval_timeout_s: float = Field(default=0.25, gt=0, le=60)
    rego_memory_mib: int = Field(default=256, ge=128)
    rego_max_source_bytes: int = Field(default=256 * 1024, ge=1024)
    rego_max_nesting: int = Field(default=12, ge=4, le=64)
    rego_max_input_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)

    # The web console (/console): a signed-in session ends after this long without a request, and in any
    # case this long after sign-in. X-Forwarded-Proto is believed (for the cookie's Secure flag) only when
    # trust_forwarded_proto is set: behind a TLS-terminating proxy that always sets it.
    console_session_idle_s: int = Field(default=30 * 60, ge=60)
    console_session_max_s: int = Field(default=12 * 3600, ge=60)
    trust_forwarded_proto: bool = False

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
