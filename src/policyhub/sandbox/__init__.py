"""The bounded runtime for tenant-written content (regexes, Rego, JSON Schemas, patches, decisions).

Everything a tenant writes and PolicyHub executes runs through here, so that it never performs I/O and
never runs without a time and size bound. Policy types, services and the engine call these modules;
nothing here imports them.
"""
