"""Open311 GeoReport v2 adapter: parses and answers the standard, calls ticket services."""
