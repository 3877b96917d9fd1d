"""PolicyHub: one service where policies are authored, validated, versioned, audited and evaluated."""

__version__ = "0.1.0"
