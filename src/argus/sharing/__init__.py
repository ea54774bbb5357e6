"""Sharing between agencies: agreements, the authorize decision, grants and stream tokens."""
