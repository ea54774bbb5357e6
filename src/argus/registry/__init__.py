"""The registry of agencies, sites and cameras: models, logic, import, spatial index, routes."""
