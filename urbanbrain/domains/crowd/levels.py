"""Warning levels from density (persons per m² of walkable area).

The defaults follow the crowd-safety literature's levels of service (Fruin; Still): below 2 persons/m²
people walk freely; at 3.5 movement is restricted; at 5 a crowd starts to push and sway, the threshold the
issue calls dangerous; at 6.5 crushing becomes likely. A zone may set its own thresholds, or give them as
ratios of its capacity (景区 "最大承载量" practice: 80% of capacity is the usual trigger)."""

from __future__ import annotations

from dataclasses import dataclass

LEVELS = ("blue", "yellow", "orange", "red")
DEFAULT_DENSITY = (2.0, 3.5, 5.0, 6.5)
DANGER_DENSITY = 5.0  # "will reach 5 persons/m²": the forecast warning's threshold by default


@dataclass(frozen=True)
class Thresholds:
    """Density at which each level starts, blue to red (strictly rising)."""

    density: tuple[float, float, float, float] = DEFAULT_DENSITY

    @classmethod
    def from_capacity(cls, ratios: tuple[float, ...], capacity: int, area_m2: float) -> Thresholds:
        d = tuple(r * capacity / area_m2 for r in ratios)
        return cls((d[0], d[1], d[2], d[3]))

    def level(self, density: float) -> str | None:
        """The highest level whose threshold ``density`` has reached; None below blue."""
        found = None
        for name, start in zip(LEVELS, self.density, strict=True):
            if density >= start:
                found = name
        return found

    @property
    def danger(self) -> float:
        """The forecast warning's threshold: the orange level's density."""
        return self.density[2]


def rank(level: str | None) -> int:
    """0 for no level, 1 blue ... 4 red: to compare levels."""
    return 0 if level is None else LEVELS.index(level) + 1
