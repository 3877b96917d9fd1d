"""The composition root: builds settings, database, registry and services once, for API, CLI and tests."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

from policyhub.engine.engine import DecisionEngine
from policyhub.engine.ratelimit import build_limiter
from policyhub.evaluation.compiled import Judge
from policyhub.evaluation.limits import DecisionLimits
from policyhub.policy_types.registry import PolicyTypeRegistry, default_points, default_registry
from policyhub.sandbox import rego
from policyhub.services.actor_cache import ActorCache
from policyhub.services.audit_keys import MISSING_FOR_SERVER, keyring_from_settings
from policyhub.services.bundle_keys import MISSING as BUNDLE_KEY_MISSING
from policyhub.services.bundle_keys import BundleKeyError, load_bundle_keys
from policyhub.services.change_feed import ChangeFeed
from policyhub.services.commands import CommandRunner
from policyhub.services.decision_log import DecisionLog, LogPolicy
from policyhub.services.decisions import DecisionService
from policyhub.services.patching import PatchBudget
from policyhub.services.policies import PolicyService
from policyhub.services.resources import ResourceService
from policyhub.services.rollout import RolloutService
from policyhub.services.scopes import ScopeService
from policyhub.settings import Settings
from policyhub.storage.db import Database

log = logging.getLogger(__name__)


@dataclass
class Container:
    """The composition root's products, shared by every request (and by the CLI and tests)."""

    settings: Settings
    db: Database
    registry: PolicyTypeRegistry
    policies: PolicyService
    scopes: ScopeService
    resources: ResourceService
    actors: ActorCache
    decisions: DecisionService

    @cached_property
    def commands(self) -> CommandRunner:
        """Runs every policy write (``services.commands``)."""
        return CommandRunner(self.db, self.policies)

    @cached_property
    def change_feed(self) -> ChangeFeed:
        """The org change feed and its long polls (``services.change_feed``)."""
        return ChangeFeed(self.db)

    @cached_property
    def rollout(self) -> RolloutService:
        """Environments, signed bundles, agent reports (``services.rollout``); the signing key is loaded on
        first use (an unusable one makes the bundle routes answer 503 saying why)."""
        try:
            keys = load_bundle_keys(self.settings)
        except BundleKeyError as exc:
            log.error("bundle signing key: %s", exc)
            return RolloutService(None, live_s=self.settings.agent_live_s, keys_problem=str(exc))
        if keys is None:
            log.warning("%s", BUNDLE_KEY_MISSING)
        return RolloutService(keys, live_s=self.settings.agent_live_s)


def build_container(settings: Settings, registry: PolicyTypeRegistry | None = None) -> Container:
    """Everything a request needs, created at start-up (never at import). Tests may add policy types."""
    keyring = keyring_from_settings(settings, required=False)
    if keyring is None:  # ``policyhub serve`` refuses to start so; a library caller is warned
        log.warning("audit events are not keyed: %s", MISSING_FOR_SERVER)
    db = Database(
        settings.database_url,
        pool_size=settings.db_pool_size,
        connect_timeout_s=settings.db_connect_timeout_s,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        group_commit=settings.sqlite_group_commit
        if settings.database_url.startswith("sqlite")
        else settings.postgres_group_commit,
        audit_keyring=keyring,
    )
    registry = registry or default_registry()
    rego.configure(rego_limits(settings))
    engine = DecisionEngine(
        db,
        registry,
        default_points(),
        build_limiter(settings.redis_url, keys_per_org=settings.ratelimit_keys_per_org),
        judge=build_judge(settings),
        refresh_s=settings.decision_refresh_s,
        limits=decision_limits(settings),
        judge_per_org=settings.judge_concurrency_per_org,
        judge_threads=settings.judge_threads,
    )
    return Container(
        settings=settings,
        db=db,
        registry=registry,
        policies=PolicyService(registry, PatchBudget(settings.max_patch_operations, settings.max_body_bytes)),
        scopes=ScopeService(),
        resources=ResourceService(),
        actors=ActorCache(settings.auth_cache_ttl_s),
        decisions=DecisionService(engine, DecisionLog(db, log_policy(settings), points=engine.points)),
    )


def decision_limits(settings: Settings) -> DecisionLimits:
    """The bounds of one decision (deadline, reasons, details, response size), the hub's and the agents'."""
    return DecisionLimits(
        deadline_s=settings.decision_deadline_s,
        max_reasons=settings.decision_max_reasons,
        max_reason_bytes=settings.decision_max_reason_bytes,
        max_details_bytes=settings.decision_max_details_bytes,
        max_response_bytes=settings.decision_max_response_bytes,
    )


def log_policy(settings: Settings) -> LogPolicy:
    """What the decision log keeps (sampling, input mode, size caps), the hub's and the agents'."""
    return LogPolicy(
        enabled=settings.decision_log,
        sample_allow=settings.decision_log_sample_allow,
        input_mode=settings.decision_log_input,
        max_input_bytes=settings.decision_log_max_input_bytes,
        max_results_bytes=settings.decision_log_max_results_bytes,
        page_bytes=settings.decision_log_page_bytes,
    )


def rego_limits(settings: Settings) -> rego.RegoLimits:
    """The budgets of tenant Rego (the process's workers start lazily, on the first parse or evaluation)."""
    return rego.RegoLimits(
        workers=settings.rego_workers,
        parse_timeout_s=settings.rego_parse_timeout_s,
        eval_timeout_s=settings.rego_eval_timeout_s,
        memory_mib=settings.rego_memory_mib,
        max_source_bytes=settings.rego_max_source_bytes,
        max_nesting=settings.rego_max_nesting,
        max_input_bytes=settings.rego_max_input_bytes,
    )


def build_judge(settings: Settings) -> Judge | None:
    """The optional content judge (an OpenAI-compatible chat endpoint), when ``POLICYHUB_JUDGE_URL`` is set."""
    if not settings.judge_url:
        return None
    from policyhub.engine.judge import ChatJudge

    return ChatJudge(
        settings.judge_url,
        model=settings.judge_model,
        api_key=settings.judge_api_key,
        timeout_s=settings.judge_timeout_s,
    )
