"""The core API, ``/v1``."""

from fastapi import APIRouter

from policyhub.http.v1 import admin, decisions, events, policies, scopes, types

router = APIRouter(prefix="/v1")
# Decisions first: the hottest route, and routes are matched in order.
router.include_router(decisions.router)
router.include_router(types.router)
router.include_router(admin.router)
router.include_router(scopes.router)
router.include_router(policies.router)
router.include_router(events.router)
