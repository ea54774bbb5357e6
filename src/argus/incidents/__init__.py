"""Incidents: intake (REST, signed webhook, CAP 1.2), camera selection, temporary grants, push."""
