"""Request dependencies of the Kosli routes: the org in the path, and strict JSON bodies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from policyhub.domain.records import Org
from policyhub.errors import NotFound
from policyhub.http.deps import CurrentActor, json_body, key_org, require_json_object
from policyhub.http.media import check_json_media


def kosli_org(request: Request, actor: CurrentActor, org: Annotated[str, Path(title="Org")]) -> Org:
    """The key's org, named by slug (or id) in the path; any other org is a 404 like a missing one."""
    try:
        return key_org(request, org)
    except NotFound:
        raise NotFound(f"Organization '{org}' does not exist") from None


KosliOrg = Annotated[Org, Depends(kosli_org)]


async def json_object(request: Request) -> dict[str, object]:
    """The body as a JSON object (strictly parsed); a body declared as something other than JSON is a 415."""
    check_json_media(request.headers.get("content-type"), required=False)
    return require_json_object(await json_body(request))


JsonObject = Annotated[dict[str, object], Depends(json_object)]
