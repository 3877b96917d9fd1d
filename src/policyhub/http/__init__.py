"""HTTP faces: the core ``/v1`` API, the vendor-compatible dialects, health and metrics."""
