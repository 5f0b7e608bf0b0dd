"""Domains: the platforms' business areas, each one folder with the same file names."""
