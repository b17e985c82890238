"""wallboard views (placeholder until built)."""
