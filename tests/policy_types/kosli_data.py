"""The Kosli docs' full environment-policy example (vendor-apis.md 1.5), shared by the plugin and API tests."""

DOCS_EXAMPLE = """\
_schema: https://docs.kosli.com/schemas/policy/v1
artifacts:
  provenance:
    required: true
    exceptions:
      - if: ${{ matches(artifact.name, "^datadog:.*") }}
  trail-compliance:
    required: true
  attestations:
    - name: security-scan
      type: snyk
    - name: pull-request
      type: pull_request
      if: ${{ flow.tags.risk-level == "high" }}
    - name: coverage
      type: custom:coverage-metrics
    - type: decision            # Controls beta
      name: decision
      for_control: assert-artifact-ctl
"""
