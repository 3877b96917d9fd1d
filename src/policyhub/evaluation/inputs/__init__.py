"""The input model of each decision point."""
