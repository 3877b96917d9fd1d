"""``policyhub agent``: PolicyHub's decision engine next to an enforcement point.

It follows one rollout environment's signed bundle (:mod:`policyhub.agent.runtime`), decides locally
with the hub's own engine and decision service, keeps deciding on its last verified state when the hub
is down (fail-static), and ships its decision log through a durable local spool. Its listener is the
face :mod:`policyhub.http.agent`.
"""
