"""The district lake's files and queries (being written: see issue 18)."""

from __future__ import annotations

from pathlib import Path


class DistrictLake:
    def __init__(self, root: Path, *, utc_offset_hours: float = 8, fsync: bool = True) -> None:
        self.root = Path(root).resolve()
        self.utc_offset_hours = utc_offset_hours
        self.fsync = fsync
