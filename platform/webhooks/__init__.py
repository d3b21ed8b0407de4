"""Webhooks: a team's own systems told, with a signed POST, when one of its jobs ends or is reviewed."""
