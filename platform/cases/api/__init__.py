"""REST API v1 for cases, media and analysis jobs."""
