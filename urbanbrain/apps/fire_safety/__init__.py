"""Fire-safety grid of an urban village (城中村消防安全网格化管理): inspections, hazards, rectification."""
