"""The core API, ``/v1``."""

from fastapi import APIRouter

from policyhub.http.v1 import admin, decisions, events, policies, scopes, types

router = APIRouter(prefix="/v1")
router.include_router(types.router)
router.include_router(admin.router)
router.include_router(scopes.router)
router.include_router(policies.router)
router.include_router(events.router)
router.include_router(decisions.router)
