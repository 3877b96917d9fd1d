"""Vendor-compatible APIs: each a thin dialect over the core services, at the vendor's documented paths.

A dialect package exposes ``install(app, faces)``: it includes its router and registers its error
renderer for its path prefix. It translates wire formats and calls the core services; it never
re-implements versioning, audit, permission checks or transactions.
"""

from __future__ import annotations

import importlib

from fastapi import FastAPI

from policyhub.http.problems import ErrorFaces

DIALECTS = ("kosli", "jfrog", "syftspace", "apinizer", "flashback")


def install(app: FastAPI, faces: ErrorFaces) -> None:
    """Install every vendor dialect."""
    for name in DIALECTS:
        importlib.import_module(f"policyhub.http.compat.{name}").install(app, faces)
