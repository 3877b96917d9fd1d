"""The core API, ``/v1``: its routers, in matching order."""

from policyhub.http.v1 import admin, changes, decisions, events, policies, rollout, scopes, types

# Decisions first: the hottest routes, and routes are matched in order.
ROUTERS = (
    decisions.router,
    types.router,
    admin.router,
    scopes.router,
    policies.router,
    events.router,
    rollout.router,
    changes.router,
)
