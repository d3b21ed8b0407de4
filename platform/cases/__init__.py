"""Cases, media, analysis jobs and their results: models, services, API."""
