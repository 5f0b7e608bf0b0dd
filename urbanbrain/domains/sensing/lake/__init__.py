"""The telemetry lake: readings in date-partitioned Parquet, per-minute rollups, DuckDB over both."""

from urbanbrain.domains.sensing.lake.readings import READINGS_SCHEMA, Lake

__all__ = ["READINGS_SCHEMA", "Lake"]
