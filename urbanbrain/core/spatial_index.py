"""Fast exact point-in-polygon lookup over a fixed set of non-overlapping polygons.

Why not just an STRtree: the hot path of the platform (tagging every sensor reading, phone ping or
incident with its grid cell) asks "which leaf cell holds this point?" millions of times, often one point at
a time from Python.  An STRtree query costs a tree walk plus an exact GEOS predicate per call.  Leaf cells
are static, so we precompute a raster over their bounding box instead:

* every raster cell that any polygon boundary may touch is marked *boundary* (conservatively: each ring is
  sampled at less than half a raster step and the marks are dilated by one cell);
* every other raster cell cannot be crossed by a boundary, so it lies wholly inside exactly one polygon or
  outside all of them; it stores that answer directly;
* a boundary cell stores a short candidate list (polygons whose bounding box meets the cell) and the lookup
  falls back to an exact ``shapely.intersects_xy`` test on those candidates.

A single lookup is then two multiplications, a bounds check and one array read for the vast majority of
points, and the batched lookup is a numpy gather plus a vectorised exact test for the few boundary points.
Results equal a brute-force ``covers`` test for every point that is not exactly on an edge; a point on a
shared edge gets one of the polygons that cover it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

_OUTSIDE = -1
"""Raster value of a cell outside every polygon; values >= 0 are polygon positions, <= -2 boundary cells."""


class AreaIndex:
    """Exact point -> polygon id index for static, non-overlapping lon/lat (or any planar) polygons.

    ``ids[i]`` is reported for points covered by ``geometries[i]``.  The geometries are prepared in place
    (``shapely.prepare``), which only attaches a cache and does not change them.
    """

    def __init__(
        self,
        ids: Sequence[int],
        geometries: Sequence[Any],
        *,
        max_raster_cells: int = 4_194_304,
        cells_per_polygon_side: float = 128.0,
    ) -> None:
        """Build the raster.

        ``cells_per_polygon_side`` sets the raster step relative to the typical polygon size (the share of
        boundary cells, which need the exact fallback, is roughly ``6 / cells_per_polygon_side``);
        ``max_raster_cells`` caps memory (4 bytes per cell).
        """
        if len(ids) != len(geometries):
            raise ValueError("ids and geometries must have the same length")
        self._ids: list[int] = [int(i) for i in ids]
        self._ids_arr: NDArray[np.int64] = np.asarray(self._ids, dtype=np.int64)
        geoms = np.empty(len(geometries), dtype=object)
        geoms[:] = list(geometries)
        self._geoms: NDArray[np.object_] = geoms
        shapely.prepare(geoms)
        self._geom_list: list[Any] = list(geoms)
        n = len(geoms)

        if n == 0 or bool(np.all(shapely.is_empty(geoms))):
            self._setup_empty()
            return

        bounds = shapely.bounds(geoms)
        minx, miny = float(np.nanmin(bounds[:, 0])), float(np.nanmin(bounds[:, 1]))
        maxx, maxy = float(np.nanmax(bounds[:, 2])), float(np.nanmax(bounds[:, 3]))
        width, height = max(maxx - minx, 1e-12), max(maxy - miny, 1e-12)

        # Raster step: a fraction of the typical polygon size, capped by the memory budget.
        sizes = np.sqrt(np.maximum((bounds[:, 2] - bounds[:, 0]) * (bounds[:, 3] - bounds[:, 1]), 0.0))
        typical = float(np.nanmedian(sizes)) if np.any(sizes > 0) else max(width, height)
        step = max(typical / cells_per_polygon_side, 1e-12)
        step = max(step, math.sqrt(width * height / max_raster_cells) * 1.01)
        # One padding cell on every side, so points exactly on the bbox edge land inside the raster.
        nx = min(max(int(math.ceil(width / step)) + 2, 3), 1 << 20)
        ny = min(max(int(math.ceil(height / step)) + 2, 3), 1 << 20)
        while nx * ny > max_raster_cells and step < 1e300:
            step *= 1.05
            nx = max(int(math.ceil(width / step)) + 2, 3)
            ny = max(int(math.ceil(height / step)) + 2, 3)
        self._x0 = minx - step
        self._y0 = miny - step
        self._sx = 1.0 / step
        self._sy = 1.0 / step
        self._nx, self._ny = nx, ny
        self._nxf, self._nyf = float(nx), float(ny)

        boundary = self._boundary_mask(geoms)
        raster = self._label_interior(boundary)
        self._build_candidates(boundary, raster, bounds)
        self._raster = raster
        # A memoryview gives ~list-speed scalar indexing without a per-cell Python object.
        self._cells = raster.data
        self._offsets_mv = self._offsets.data
        self._cands_mv = self._cands.data

    # ------------------------------------------------------------------------------------------- build

    def _setup_empty(self) -> None:
        self._x0 = self._y0 = 0.0
        self._sx = self._sy = 1.0
        self._nx = self._ny = 1
        self._nxf = self._nyf = 0.0  # every point fails the bounds check
        self._raster = np.full(1, _OUTSIDE, dtype=np.int32)
        self._offsets = np.zeros(1, dtype=np.int32)
        self._cands = np.zeros(0, dtype=np.int32)
        self._cells = self._raster.data
        self._offsets_mv = self._offsets.data
        self._cands_mv = self._cands.data

    def _boundary_mask(self, geoms: NDArray[np.object_]) -> NDArray[np.bool_]:
        """Raster cells that a polygon boundary may touch (conservative superset)."""
        rings = shapely.get_rings(shapely.get_parts(geoms))
        coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
        fx = (coords[:, 0] - self._x0) * self._sx
        fy = (coords[:, 1] - self._y0) * self._sy
        same = ring_idx[1:] == ring_idx[:-1]  # consecutive vertices of one ring form a segment
        ax, ay, bx, by = fx[:-1][same], fy[:-1][same], fx[1:][same], fy[1:][same]
        # Samples closer than 0.45 cells apart: every cell the segment crosses is within one cell of a sample.
        nseg = np.ceil(np.hypot(bx - ax, by - ay) / 0.45).astype(np.int64) + 1
        seg = np.repeat(np.arange(len(ax)), nseg)
        start = np.repeat(np.cumsum(nseg) - nseg, nseg)
        t = (np.arange(len(seg)) - start) / np.repeat(np.maximum(nseg - 1, 1), nseg)
        sx = ax[seg] + (bx[seg] - ax[seg]) * t
        sy = ay[seg] + (by[seg] - ay[seg]) * t
        ix = np.clip(np.floor(sx).astype(np.int64), 0, self._nx - 1)
        iy = np.clip(np.floor(sy).astype(np.int64), 0, self._ny - 1)
        mark = np.zeros((self._ny, self._nx), dtype=np.bool_)
        mark[iy, ix] = True
        # Dilate by one cell (8-neighbourhood).
        grown = mark.copy()
        grown[1:, :] |= mark[:-1, :]
        grown[:-1, :] |= mark[1:, :]
        rows = grown.copy()
        grown[:, 1:] |= rows[:, :-1]
        grown[:, :-1] |= rows[:, 1:]
        return grown

    def _label_interior(self, boundary: NDArray[np.bool_]) -> NDArray[np.int32]:
        """Label non-boundary cells with the polygon holding them (or outside).

        Two horizontally adjacent non-boundary cells cannot be separated by a boundary, so each run of
        non-boundary cells in a row has one label: only one point per run needs an exact query.
        """
        flat = ~boundary.ravel()
        nx = self._nx
        col = np.arange(flat.size) % nx
        prev = np.concatenate(([False], flat[:-1]))
        run_start = flat & ((col == 0) | ~prev)
        starts = np.flatnonzero(run_start)
        # Run ends: next cell is boundary or a new row.
        nxt = np.concatenate((flat[1:], [False]))
        run_end = flat & ((col == nx - 1) | ~nxt)
        ends = np.flatnonzero(run_end) + 1
        cx = np.asarray(self._x0 + ((starts % nx) + 0.5) / self._sx, dtype=np.float64)
        cy = np.asarray(self._y0 + ((starts // nx) + 0.5) / self._sy, dtype=np.float64)
        labels = self._exact_many(cx, cy)
        labels_pos = np.where(labels >= 0, labels, _OUTSIDE).astype(np.int32)
        raster = np.full(flat.size, -2, dtype=np.int32)
        raster[flat] = np.repeat(labels_pos, ends - starts)
        return raster

    def _exact_many(self, xs: NDArray[np.float64], ys: NDArray[np.float64]) -> NDArray[np.int64]:
        """Polygon position covering each point (or -1), with an STRtree; used only during build."""
        tree = shapely.STRtree(self._geoms)
        pts = shapely.points(xs, ys)
        q_pt, q_geom = tree.query(pts, predicate="intersects")
        out = np.full(len(xs), -1, dtype=np.int64)
        out[q_pt] = q_geom
        return out

    def _build_candidates(
        self, boundary: NDArray[np.bool_], raster: NDArray[np.int32], bounds: NDArray[np.float64]
    ) -> None:
        """CSR candidate lists for boundary cells: polygons whose bounding box meets the cell."""
        nx, ny = self._nx, self._ny
        bcells = np.flatnonzero(boundary.ravel())
        ordinal = np.full(boundary.size, -1, dtype=np.int64)
        ordinal[bcells] = np.arange(len(bcells))
        raster[bcells] = (-2 - np.arange(len(bcells))).astype(np.int32)
        ix0 = np.clip(np.floor((bounds[:, 0] - self._x0) * self._sx).astype(np.int64), 0, nx - 1)
        ix1 = np.clip(np.floor((bounds[:, 2] - self._x0) * self._sx).astype(np.int64), 0, nx - 1)
        iy0 = np.clip(np.floor((bounds[:, 1] - self._y0) * self._sy).astype(np.int64), 0, ny - 1)
        iy1 = np.clip(np.floor((bounds[:, 3] - self._y0) * self._sy).astype(np.int64), 0, ny - 1)
        cell_parts: list[NDArray[np.int64]] = []
        poly_parts: list[NDArray[np.int64]] = []
        for p in range(len(bounds)):
            if not np.isfinite(bounds[p, 0]):
                continue  # empty geometry
            sub = boundary[iy0[p] : iy1[p] + 1, ix0[p] : ix1[p] + 1]
            r, c = np.nonzero(sub)
            cells = (r + iy0[p]) * nx + (c + ix0[p])
            cell_parts.append(ordinal[cells])
            poly_parts.append(np.full(len(cells), p, dtype=np.int64))
        if cell_parts:
            cell_of = np.concatenate(cell_parts)
            poly_of = np.concatenate(poly_parts)
        else:
            cell_of = poly_of = np.zeros(0, dtype=np.int64)
        order = np.lexsort((poly_of, cell_of))
        counts = np.bincount(cell_of, minlength=len(bcells))
        self._offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)
        self._cands = poly_of[order].astype(np.int32)

    # ------------------------------------------------------------------------------------------ lookup

    def lookup(self, lon: float, lat: float) -> int | None:
        """Id of the polygon covering (lon, lat), or None (also for NaN/inf input)."""
        fx = (lon - self._x0) * self._sx
        fy = (lat - self._y0) * self._sy
        # NaN fails every comparison and inf fails the upper bound, so both return None here.
        if not (0.0 <= fx < self._nxf and 0.0 <= fy < self._nyf):
            return None
        k = self._cells[int(fy) * self._nx + int(fx)]
        if k >= 0:
            return self._ids[k]
        if k == _OUTSIDE:
            return None
        b = -2 - k
        offsets = self._offsets_mv
        cands = self._cands_mv
        geoms = self._geom_list
        for j in range(offsets[b], offsets[b + 1]):
            p = cands[j]
            if shapely.intersects_xy(geoms[p], lon, lat):
                return self._ids[p]
        return None

    def lookup_many(self, lons: ArrayLike, lats: ArrayLike) -> NDArray[np.int64]:
        """Vectorised :meth:`lookup`: int64 ids, -1 where no polygon covers the point (or it is NaN/inf)."""
        x = np.asarray(lons, dtype=np.float64).ravel()
        y = np.asarray(lats, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError("lons and lats must have the same length")
        out = np.full(x.shape, -1, dtype=np.int64)
        fx = (x - self._x0) * self._sx
        fy = (y - self._y0) * self._sy
        with np.errstate(invalid="ignore"):
            ok = (fx >= 0.0) & (fx < self._nxf) & (fy >= 0.0) & (fy < self._nyf)
        idx = np.flatnonzero(ok)
        if idx.size == 0:
            return out
        cell = fy[idx].astype(np.int64) * self._nx + fx[idx].astype(np.int64)
        k = self._raster[cell]
        inside = k >= 0
        out[idx[inside]] = self._ids_arr[k[inside]]
        bsel = k <= -2
        if np.any(bsel):
            pts = idx[bsel]
            b = (-2 - k[bsel]).astype(np.int64)
            start = self._offsets[b].astype(np.int64)
            counts = self._offsets[b + 1].astype(np.int64) - start
            rep = np.repeat(np.arange(len(pts)), counts)
            within = np.arange(len(rep)) - np.repeat(np.cumsum(counts) - counts, counts)
            cand = self._cands[np.repeat(start, counts) + within]
            hit = shapely.intersects_xy(self._geoms[cand], x[pts[rep]], y[pts[rep]])
            # A point on a shared edge hits several candidates; any of them is a correct answer.
            out[pts[rep[hit]]] = self._ids_arr[cand[hit]]
        return out

    # ------------------------------------------------------------------------------------------- info

    @property
    def raster_shape(self) -> tuple[int, int]:
        """(rows, columns) of the lookup raster."""
        return self._ny, self._nx

    @property
    def boundary_fraction(self) -> float:
        """Share of raster cells that need the exact fallback."""
        return float(np.count_nonzero(self._raster <= -2)) / max(self._raster.size, 1)

    @property
    def nbytes(self) -> int:
        """Approximate memory of the index arrays (excluding the geometries themselves)."""
        return int(self._raster.nbytes + self._offsets.nbytes + self._cands.nbytes + self._ids_arr.nbytes)

    def __len__(self) -> int:
        return len(self._ids)
