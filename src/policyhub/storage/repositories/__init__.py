"""Repositories: every SQL statement of the service, each scoped to one org (the tenant filter)."""
