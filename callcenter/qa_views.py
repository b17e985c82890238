"""qa views (placeholder until built)."""
