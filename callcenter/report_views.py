"""report views (placeholder until built)."""
