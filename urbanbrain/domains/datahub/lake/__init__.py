"""The district lake: registry, cases, alarms and readings as partitioned Parquet, read with DuckDB."""
