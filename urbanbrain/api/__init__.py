"""The HTTP layer: app factory, shared dependencies, error rendering, system endpoints."""
