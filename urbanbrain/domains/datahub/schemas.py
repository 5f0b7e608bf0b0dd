"""Request and response bodies of the data hub."""
