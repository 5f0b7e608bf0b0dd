"""The demo district: Futian's real outline, streets and communities, and generated records for it (a client of the registry, never a back door)."""
