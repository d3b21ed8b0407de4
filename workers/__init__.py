"""Celery tasks: claim a job (cases.lease), run detector's pipeline on it, store its result (cases.results)."""
