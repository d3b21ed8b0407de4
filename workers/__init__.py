"""Celery tasks: claim a job, run detector's pipeline on it, hand the result to cases.services."""
