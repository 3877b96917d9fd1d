"""Syft Space's tenant headers, mapped onto the API key's org.

The seed documents ``X-Tenant-ID``; Syft Space's code reads ``X-Tenant-Name``. Both are accepted and each,
when present, must name the key's own org (by id or slug). Anything else is ``404 Tenant '<x>' not found``,
exactly as for a tenant that does not exist: a header selects, it never widens access. Without a header the
key's org is the tenant (Syft Space with multi-tenancy disabled uses its default tenant the same way).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from policyhub.domain.records import Org
from policyhub.errors import NotFound
from policyhub.http.deps import CurrentActor, key_org


def tenant_org(
    request: Request,
    actor: CurrentActor,
    x_tenant_id: Annotated[str | None, Header(alias="X-Tenant-ID", description="the org's id or slug")] = None,
    x_tenant_name: Annotated[str | None, Header(alias="X-Tenant-Name", description="the org's slug or id")] = None,
) -> Org:
    """The key's org, provided every tenant header present names it."""
    for named in (x_tenant_id, x_tenant_name):
        if named is None:
            continue
        try:
            key_org(request, named)
        except NotFound:
            raise NotFound(f"Tenant '{named}' not found") from None
    return key_org(request, None)


TenantOrg = Annotated[Org, Depends(tenant_org)]
