"""Real PolicyHub server processes for tests that need concurrency, crashes or several replicas.

The implementation is shared with the reliability suite (``reliability/servers.py``).
"""

from reliability.servers import AUDIT_KEY, ORG, TOKEN, ServerProcess, free_port

__all__ = ["AUDIT_KEY", "ORG", "TOKEN", "ServerProcess", "free_port"]
