"""Staff users, departments, roles, API keys, and who may see what."""
