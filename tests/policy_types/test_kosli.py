"""kosli.environment: YAML and JSON input, defaults, validation paths, YAML safety."""

from __future__ import annotations

import pytest

from policyhub.errors import InvalidInput
from policyhub.policy_types.kosli import KosliEnvironmentType
from policyhub.policy_types.kosli.yaml_source import MAX_SOURCE_BYTES

from .helpers import FakeContext, error_fields, error_map
from .kosli_data import DOCS_EXAMPLE

TYPE = KosliEnvironmentType()


DOCS_EXAMPLE_NORMALIZED = {
    "_schema": "https://docs.kosli.com/schemas/policy/v1",
    "artifacts": {
        "provenance": {
            "required": True,
            "exceptions": [{"if": '${{ matches(artifact.name, "^datadog:.*") }}'}],
        },
        "trail-compliance": {"required": True, "exceptions": []},
        "attestations": [
            {"type": "snyk", "name": "security-scan", "must_be_compliant": True},
            {
                "type": "pull_request",
                "name": "pull-request",
                "if": '${{ flow.tags.risk-level == "high" }}',
                "must_be_compliant": True,
            },
            {"type": "custom:coverage-metrics", "name": "coverage", "must_be_compliant": True},
            {
                "type": "decision",
                "name": "decision",
                "must_be_compliant": True,
                "for_control": "assert-artifact-ctl",
            },
        ],
    },
}

DEFAULT_ARTIFACTS = {
    "provenance": {"required": False, "exceptions": []},
    "trail-compliance": {"required": False, "exceptions": []},
    "attestations": [],
}


def spec_with(**artifacts: object) -> dict[str, object]:
    return {"_schema": "https://kosli.com/schemas/policy/environment/v1", "artifacts": artifacts}


def test_docs_example_yaml_normalises_and_keeps_source(ctx: FakeContext) -> None:
    result = TYPE.parse_source(DOCS_EXAMPLE, ctx)
    assert result.spec == DOCS_EXAMPLE_NORMALIZED
    assert result.source == DOCS_EXAMPLE
    assert result.references == ()


def test_json_form_gives_same_spec(ctx: FakeContext) -> None:
    assert TYPE.normalize(DOCS_EXAMPLE_NORMALIZED, ctx).spec == DOCS_EXAMPLE_NORMALIZED


def test_minimal_policy_gets_defaults(ctx: FakeContext) -> None:
    result = TYPE.parse_source("_schema: https://kosli.com/schemas/policy/environment/v1\n", ctx)
    assert result.spec == {
        "_schema": "https://kosli.com/schemas/policy/environment/v1",
        "artifacts": DEFAULT_ARTIFACTS,
    }


def test_openapi_example_yaml(ctx: FakeContext) -> None:
    source = (
        "_schema: https://kosli.com/schemas/policy/environment/v1\n\nartifacts:\n  provenance:\n    required: false"
    )
    assert TYPE.parse_source(source, ctx).spec["artifacts"] == DEFAULT_ARTIFACTS


@pytest.mark.parametrize(
    "uri",
    [
        "https://kosli.com/schemas/policy/environment/v1",
        "https://kosli.mintlify.app/schemas/policy/v1",
        "https://docs.kosli.com/schemas/policy/v1",
    ],
)
def test_known_schema_uris_accepted(ctx: FakeContext, uri: str) -> None:
    assert TYPE.normalize({"_schema": uri}, ctx).spec["_schema"] == uri


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("https://kosli.com/schemas/policy/environment/v2", "unsupported policy schema version 'v2'"),
        ("https://kosli.com/schemas/policy/environment", "must end in /v1"),
        ("https://kosli.com/schemas/policy/v1/", "must end in /v1"),
        ("v1", "must be a schema URI"),
    ],
)
def test_bad_schema_uri(ctx: FakeContext, uri: str, message: str) -> None:
    errors = error_map(lambda: TYPE.normalize({"_schema": uri}, ctx))
    assert list(errors) == ["spec._schema"]
    assert message in errors["spec._schema"]


def test_schema_is_required(ctx: FakeContext) -> None:
    assert error_map(lambda: TYPE.normalize({}, ctx)) == {"spec._schema": "field required"}


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"_schema": "https://x.io/v1", "version": 1}, "spec.version"),
        (spec_with(provenance={"required": True, "strict": True}), "spec.artifacts.provenance.strict"),
        (spec_with(trail_compliance={}), "spec.artifacts.trail_compliance"),
        (spec_with(attestations=[{"type": "snyk", "nam": "x"}]), "spec.artifacts.attestations.0.nam"),
        (
            spec_with(provenance={"exceptions": [{"when": "x"}]}),
            "spec.artifacts.provenance.exceptions.0.when",
        ),
    ],
)
def test_unknown_keys_rejected(ctx: FakeContext, spec: dict[str, object], field: str) -> None:
    assert error_map(lambda: TYPE.normalize(spec, ctx)) == {field: "unknown field"}


def test_wrong_types_are_field_errors(ctx: FakeContext) -> None:
    spec = spec_with(provenance={"required": "yes"}, attestations={"type": "snyk"})
    assert error_fields(lambda: TYPE.normalize(spec, ctx)) == [
        "spec.artifacts.provenance.required",
        "spec.artifacts.attestations",
    ]


def test_attestation_rules(ctx: FakeContext) -> None:
    spec = spec_with(
        attestations=[
            {"type": "*", "name": "*"},
            {"type": "snyk", "for_control": "ctl-1"},
            {"type": "sbom"},
            {},
        ]
    )
    errors = error_map(lambda: TYPE.normalize(spec, ctx))
    assert set(errors) == {"spec.artifacts.attestations.2.type", "spec.artifacts.attestations.3.type"}
    assert "unknown attestation type 'sbom'" in errors["spec.artifacts.attestations.2.type"]
    spec = spec_with(attestations=[{"type": "*", "name": "*"}, {"type": "snyk", "for_control": "ctl-1"}])
    assert error_map(lambda: TYPE.normalize(spec, ctx)) == {
        "spec.artifacts.attestations.0.name": "name and type cannot both be '*'",
        "spec.artifacts.attestations.1.for_control": "only valid when type is 'decision'",
    }


def test_attestation_type_forms(ctx: FakeContext) -> None:
    spec = spec_with(attestations=[{"type": "pull-request"}, {"type": "*", "name": "x"}, {"type": "custom:a"}])
    attestations = TYPE.normalize(spec, ctx).spec["artifacts"]["attestations"]
    assert attestations == [
        {"type": "pull_request", "name": "*", "must_be_compliant": True},
        {"type": "*", "name": "x", "must_be_compliant": True},
        {"type": "custom:a", "name": "*", "must_be_compliant": True},
    ]


def test_expression_object_form_is_normalised_to_text(ctx: FakeContext) -> None:
    spec = spec_with(provenance={"exceptions": [{"if": {"text": '${{ flow.name == "a" }}'}}, {"if": None}]})
    exceptions = TYPE.normalize(spec, ctx).spec["artifacts"]["provenance"]["exceptions"]
    assert exceptions == [{"if": '${{ flow.name == "a" }}'}, {}]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("${{ flow.name = 'x' }}", "invalid expression: unexpected character '=' at column 15"),
        ("${{ flow.nam == 'x' }}", "invalid expression: unknown context variable 'flow.nam'"),
        ("${{ matches(artifact.name, '[') }}", "at column 28"),
        ("flow.name == 'x'", "must be written as ${{ ... }} at column 1"),
        ("${{ flow.name == }}", "expected a value, found end of expression at column 18"),
    ],
)
def test_bad_expression_reports_field_and_column(ctx: FakeContext, expression: str, message: str) -> None:
    spec = spec_with(attestations=[{"type": "snyk", "if": expression}])
    errors = error_map(lambda: TYPE.normalize(spec, ctx))
    assert list(errors) == ["spec.artifacts.attestations.0.if"]
    assert message in errors["spec.artifacts.attestations.0.if"]


def test_bad_expression_in_yaml_source(ctx: FakeContext) -> None:
    source = (
        "_schema: https://kosli.com/schemas/policy/environment/v1\n"
        "artifacts:\n  provenance:\n    exceptions:\n      - if: ${{ exists(flow.name }}\n"
    )
    errors = error_map(lambda: TYPE.parse_source(source, ctx))
    assert errors == {
        "spec.artifacts.provenance.exceptions.0.if": (
            "invalid expression: expected ')', found end of expression at column 22"
        )
    }


BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
"""


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (BILLION_LAUGHS, "YAML aliases (*name) are not allowed"),
        ("_schema: a\n---\n_schema: b\n", "multiple YAML documents are not allowed"),
        ("!!python/object/apply:os.system ['echo hi']\n", "could not determine a constructor"),
        ("_schema: !!python/name:os.system\n", "could not determine a constructor"),
        ("- a\n- b\n", "must be a mapping"),
        ("just text\n", "must be a mapping"),
        ("", "must be a mapping"),
        ("a: 1\na: 2\n", "duplicate key 'a'"),
        ("a: [1, 2\n", "invalid YAML at line 2"),
        ("d: 2024-13-45\n", "invalid YAML value"),
        ("? [a, b]\n: c\n", "invalid YAML"),
        ("[" * 5000 + "]" * 5000, "YAML nests too deeply"),
    ],
)
def test_unsafe_or_malformed_yaml_rejected(ctx: FakeContext, source: str, message: str) -> None:
    errors = error_map(lambda: TYPE.parse_source(source, ctx))
    assert list(errors) == ["source"]
    assert message in errors["source"]


def test_yaml_over_one_mebibyte_rejected(ctx: FakeContext) -> None:
    source = "_schema: https://kosli.com/schemas/policy/environment/v1\n#" + "x" * MAX_SOURCE_BYTES
    assert "larger than" in error_map(lambda: TYPE.parse_source(source, ctx))["source"]


def test_non_object_json_spec_rejected(ctx: FakeContext) -> None:
    assert error_fields(lambda: TYPE.normalize(["_schema"], ctx)) == ["spec"]


def test_render_source_round_trips(ctx: FakeContext) -> None:
    text = TYPE.render_source(DOCS_EXAMPLE_NORMALIZED)
    assert text is not None
    assert text.startswith("_schema: https://docs.kosli.com/schemas/policy/v1\nartifacts:\n")
    assert TYPE.parse_source(text, ctx).spec == DOCS_EXAMPLE_NORMALIZED


def test_type_metadata() -> None:
    assert TYPE.name == "kosli.environment"
    assert TYPE.source_media_type == "application/yaml"
    schema = TYPE.json_schema()
    assert schema["required"] == ["_schema"]
    assert schema["additionalProperties"] is False


def test_errors_are_invalid_input_not_other_exceptions(ctx: FakeContext) -> None:
    with pytest.raises(InvalidInput):
        TYPE.parse_source(None, ctx)  # type: ignore[arg-type]
