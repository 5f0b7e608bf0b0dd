"""The district registry (织网, "weaving the net"): areas, buildings, households, venues, facilities."""
