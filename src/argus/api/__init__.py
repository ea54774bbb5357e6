"""Assembly of the HTTP API: one app, each domain's router mounted on it."""
