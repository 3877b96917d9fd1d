"""The agent's configuration: ``policyhub agent`` flags, carried to the listener process as
``POLICYHUB_AGENT_*`` variables (the hub's own tunables, such as the decision deadline or the decision
log's sampling, are the usual ``POLICYHUB_*`` settings and mean the same thing on the agent)."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"


class AgentSettings(BaseSettings):
    """What one agent needs: which hub, org and environment it follows, where it listens and keeps state."""

    model_config = SettingsConfigDict(env_prefix="POLICYHUB_AGENT_", extra="ignore")

    hub: str = Field(pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$", description="the hub's base URL")
    org: str = Field(min_length=1, max_length=200)
    environment: str = Field(min_length=1, max_length=200)
    name: str = Field(default="", pattern=r"^$|" + NAME_PATTERN)
    host: str = "127.0.0.1"
    port: int = Field(default=8282, ge=1, le=65535)
    #: Envoy's gRPC services (ext_authz Check, rate limit) on this port too (the ``grpc`` extra).
    grpc_port: int | None = Field(default=None, ge=1, le=65535)
    #: Where enforcement points reach this agent (AuthZEN's metadata URLs); default ``http://host:port``.
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
    state_dir: Path = Path("var") / "agent"
    #: The hub's bundle-signing public key (base64, raw 32 bytes): pinned, the hub is never asked for it.
    public_key: str | None = None
    #: A shared Redis for rate-limit counters (else each agent counts in its own memory).
    redis_url: str | None = None
    #: Required as ``Authorization: Bearer`` on the agent's decision endpoints when set (and required
    #: when it listens on anything but a loopback address).
    local_token: SecretStr | None = Field(default=None, min_length=16)
    poll_wait_s: float = Field(default=25.0, ge=1, le=30)  # a long poll; never a tight polling loop
    status_interval_s: float = Field(default=10.0, gt=0, le=3600)
    ship_interval_s: float = Field(default=1.0, gt=0, le=600)
    max_backoff_s: float = Field(default=10.0, ge=0.1, le=600)
    spool_fsync: bool = False
    #: Bytes of unshipped decisions kept at most (a long hub outage must not fill the disk).
    spool_max_bytes: int = Field(default=1 << 30, ge=1 << 20)

    @field_validator("hub")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _defaults_and_safety(self) -> AgentSettings:
        if not self.name:
            self.name = f"{socket.gethostname().split('.')[0][:40]}-{self.port}"
        if not is_loopback(self.host) and self.local_token is None:
            raise ValueError(
                f"the agent listens on {self.host}, not a loopback address: set POLICYHUB_AGENT_LOCAL_TOKEN "
                "(at least 16 characters) so that only callers holding it get decisions"
            )
        return self

    @classmethod
    def from_environment(cls) -> AgentSettings:
        """The settings from the ``POLICYHUB_AGENT_*`` variables (raises ValidationError naming a field)."""
        return cls()  # type: ignore[call-arg]  # pydantic-settings fills the required fields from the environment

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def public_base_url(self) -> str:
        """``public_url`` without a trailing slash, else ``http://host:port`` (an IPv6 host bracketed)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"http://{host}:{self.port}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
