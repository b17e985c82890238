"""Pages citizens reach without logging in (tracking, happy-call surveys)."""

urlpatterns: list = []
