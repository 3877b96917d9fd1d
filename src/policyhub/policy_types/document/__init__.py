"""The generic ``document`` type: any JSON object, optionally checked against an org-supplied schema."""

from __future__ import annotations

from typing import Any

from policyhub.errors import FieldError, InvalidInput
from policyhub.policy_types.base import NormalizedSpec, PolicyType, ValidationContext
from policyhub.sandbox.json_schema import SchemaRefused, ValidationBudgetExceeded, compile_schema

SCHEMA_KEY = "$schema"


class DocumentType(PolicyType):
    """A free-form JSON object. ``spec["$schema"]`` may name an org JSON Schema to validate against."""

    name = "document"
    title = "Document"
    may_reference = True
    description = (
        'Any JSON object. Set "$schema" to the name of one of the org\'s document schemas to have '
        "the document validated against it on every write (JSON Schema 2020-12; references resolve only "
        "inside the schema, patterns are RE2, validation is bounded)."
    )

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {SCHEMA_KEY: {"type": "string", "description": "name of an org document schema"}},
            "additionalProperties": True,
        }

    def references(self, spec: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        name = spec.get(SCHEMA_KEY)
        return (("document_schema", name),) if isinstance(name, str) else ()

    def normalize(self, spec: Any, ctx: ValidationContext) -> NormalizedSpec:
        if not isinstance(spec, dict):
            raise InvalidInput.field("spec", "must be a JSON object")
        schema_name = spec.get(SCHEMA_KEY)
        if schema_name is None:
            return NormalizedSpec(spec=spec)
        if not isinstance(schema_name, str):
            raise InvalidInput.field(f"spec.{SCHEMA_KEY}", "must be the name of a document schema")
        schema = ctx.document_schema(schema_name)
        if schema is None:
            raise InvalidInput.field(f"spec.{SCHEMA_KEY}", f"no document schema named {schema_name!r}")
        body = {k: v for k, v in spec.items() if k != SCHEMA_KEY}
        try:
            findings = compile_schema(schema).validate(body)  # no I/O, RE2 patterns, bounded steps and time
        except SchemaRefused as exc:  # a schema stored before these checks existed
            where = ".".join(["schema", *map(str, exc.path)])
            raise InvalidInput.field(
                f"spec.{SCHEMA_KEY}",
                f"document schema {schema_name!r} cannot be used ({where}: {exc.message}); "
                "an admin must store it again",
            ) from None
        except ValidationBudgetExceeded as exc:
            problem = f"could not be checked against document schema {schema_name!r}: {exc}"
            raise InvalidInput.field("spec", problem) from None
        errors = [
            FieldError(".".join(["spec", *map(str, err.path)]), err.message)
            for err in sorted(findings.errors, key=lambda e: list(map(str, e.path)))
        ]
        if errors:
            more = f" (the first {len(errors)} errors)" if findings.truncated else ""
            raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors[:5]) + more, errors)
        return NormalizedSpec(spec=spec, references=(("document_schema", schema_name),))
