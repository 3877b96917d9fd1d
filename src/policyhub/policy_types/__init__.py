"""Policy-type plugins: each type owns its spec schema, normalisation and validation."""
