"""What the engine and the policy types agree on, below both: the contract of an evaluation.

A decision point (:mod:`points`, with its input model under :mod:`inputs`) parses what an enforcement
point sends and selects from an org's :mod:`snapshot`; a policy type compiles a policy into a
:class:`compiled.CompiledPolicy`, whose ``evaluate`` reads an :class:`compiled.Evaluation` and returns an
:class:`outcome.Outcome` within the decision's :mod:`limits`. The engine (above the types) runs that
pipeline; the types (above this package) implement it, so neither imports the other's internals.
"""
