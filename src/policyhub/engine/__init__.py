"""The decision engine: select the policies that apply, evaluate their compiled form, combine the outcomes.

A straight pipeline (after Cerbos): :mod:`snapshot` reads an org's live policies from storage and
indexes them by scope and decision point; :mod:`cache` keeps each policy version compiled once by its
type plugin; :mod:`engine` evaluates and combines. Types own their evaluators (``PolicyType.compile``).
"""
