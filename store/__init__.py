"""The gateway's database: models, engine and migrations (no Flask here)."""
