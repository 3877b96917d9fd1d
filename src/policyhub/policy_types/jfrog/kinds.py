"""The resource kinds of the JFrog objects that are not policies."""

from __future__ import annotations

RULE_KIND = "jfrog.rule"
TEMPLATE_KIND = "jfrog.template"
