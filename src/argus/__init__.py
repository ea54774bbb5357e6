"""Argus: share the CCTV cameras agencies already own, purpose-bound and audited."""

__version__ = "0.1.0"
