"""Every write of the data hub: change, audit row and event in one transaction."""
