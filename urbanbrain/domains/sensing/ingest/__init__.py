"""How readings come in: the doors (HTTP, MQTT), the wire format, the journal, the pipeline and the readings stream."""
