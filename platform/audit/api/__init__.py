"""REST API v1 for the audit log."""
