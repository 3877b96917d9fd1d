"""The ``policyhub`` command line."""
