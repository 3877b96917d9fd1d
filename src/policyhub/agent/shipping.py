"""Shipping the spooled decision log to the hub: sealed segments in batches, deleted once acknowledged."""

from __future__ import annotations

import os

from policyhub.agent.hub_client import HubClient, HubRefused
from policyhub.agent.spool import DecisionSpool, batches, read_segment

SHIP_MAX_ITEMS = 500
SHIP_MAX_BYTES = 512 * 1024


class Shipper:
    def __init__(self, spool: DecisionSpool, client: HubClient, agent: str) -> None:
        self.spool = spool
        self.client = client
        self.agent = agent

    def ship_once(self) -> tuple[int, int, str | None]:
        """Send every sealed segment (raises :class:`HubError` when the hub cannot take them now); returns
        how many entries were shipped, how many the hub refused for good, and the last refusal."""
        shipped = rejected = 0
        error: str | None = None
        for segment in self.spool.seal():
            lines = read_segment(segment)
            for batch in batches(lines, max_items=SHIP_MAX_ITEMS, max_bytes=SHIP_MAX_BYTES):
                try:
                    self.client.ship(self.agent, batch)
                except HubRefused:
                    refused, error = self._one_by_one(batch)
                    rejected += refused
            self.spool.remove(segment, len(lines))
            shipped += len(lines)
        return shipped, rejected, error

    def _one_by_one(self, batch: list[bytes]) -> tuple[int, str | None]:
        """A batch the hub refused (a 4xx): send its entries alone, so that one entry the hub will never
        take cannot hold back the others forever; each such entry is kept in ``spool/rejected.jsonl``
        rather than silently dropped. A refusal that is not about the entry (401, 403, 404: a revoked key,
        a wrong org) or of every entry of a batch stops here and leaves the segment for later."""
        refused: list[bytes] = []
        error: str | None = None
        for line in batch:
            try:
                self.client.ship(self.agent, [line])
            except HubRefused as exc:
                if exc.status not in (400, 413, 422):
                    raise
                refused.append(line)
                error = str(exc)
        if refused and len(refused) == len(batch) and len(batch) > 1:
            raise HubRefused(f"every decision of a batch was refused: {error}")
        if refused:
            with open(self.spool.directory / "rejected.jsonl", "ab") as kept:
                kept.write(b"".join(line + b"\n" for line in refused))
                kept.flush()
                os.fsync(kept.fileno())
        return len(refused), error
