"""Storage: tables, the database engine and unit of work, repositories (all SQL lives here)."""
