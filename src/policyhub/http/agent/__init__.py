"""The agent's listener: the hub's decision API, served from the agent's verified bundle."""
