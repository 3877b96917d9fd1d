"""The service layer: every update rule, permission check and audit record lives here."""
