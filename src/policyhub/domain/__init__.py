"""Domain records and pure rules (no I/O)."""
