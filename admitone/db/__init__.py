"""PostgreSQL plumbing every package shares: SQL files by name, and the migration runner."""
