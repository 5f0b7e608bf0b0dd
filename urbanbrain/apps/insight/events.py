"""Decision support emits no events: it only reads (the pre-aggregates it writes are derived files)."""

EVENT_TYPES: frozenset[str] = frozenset()
