"""Apps: the district's business systems, built only on the platforms' public actions and queries."""
