"""REST API v1 for a user's API tokens."""
