// The pin-picker's drawing: area outlines projected simply (longitude scaled by the cosine of the middle
// latitude, which is exact enough for a district a few kilometres across) onto an SVG, and a tap back to
// longitude/latitude. No map engine: a phone downloads a few kilobytes of outline and nothing else.

type Position = number[]
export interface Geometry {
  type: string
  coordinates: unknown
}
export interface Feature {
  id?: string | number
  geometry: Geometry | null
  properties?: Record<string, unknown> | null
}

export interface Projection {
  width: number
  height: number
  toXY(lon: number, lat: number): [number, number]
  toLonLat(x: number, y: number): [number, number]
}

/** Every polygon ring of a (Multi)Polygon. */
export function rings(g: Geometry | null): Position[][] {
  if (!g) return []
  if (g.type === 'Polygon') return g.coordinates as Position[][]
  if (g.type === 'MultiPolygon') return (g.coordinates as Position[][][]).flat()
  return []
}

/** [minLon, minLat, maxLon, maxLat] of the features. */
export function bounds(features: Feature[]): [number, number, number, number] | null {
  let b: [number, number, number, number] | null = null
  for (const f of features)
    for (const ring of rings(f.geometry))
      for (const [lon, lat] of ring) {
        if (!b) b = [lon, lat, lon, lat]
        else b = [Math.min(b[0], lon), Math.min(b[1], lat), Math.max(b[2], lon), Math.max(b[3], lat)]
      }
  return b
}

/** A projection of the box onto `width` pixels across, with `pad` pixels around. */
export function project(box: [number, number, number, number], width: number, pad = 8): Projection {
  const [minLon, minLat, maxLon, maxLat] = box
  const kx = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180)
  const spanX = Math.max((maxLon - minLon) * kx, 1e-9)
  const scale = (width - 2 * pad) / spanX
  const height = Math.round((maxLat - minLat) * scale + 2 * pad)
  return {
    width,
    height,
    toXY: (lon, lat) => [pad + (lon - minLon) * kx * scale, pad + (maxLat - lat) * scale],
    toLonLat: (x, y) => [minLon + (x - pad) / (kx * scale), maxLat - (y - pad) / scale],
  }
}

/** An SVG path ("M x y L … Z" per ring) for a feature's outline. */
export function pathOf(g: Geometry | null, p: Projection): string {
  return rings(g)
    .map((ring) =>
      ring
        .map(([lon, lat], i) => {
          const [x, y] = p.toXY(lon, lat)
          return `${i ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)}`
        })
        .join('') + 'Z',
    )
    .join('')
}

/** Whether the point lies inside the feature's outline (even-odd rule over every ring). */
export function contains(g: Geometry | null, lon: number, lat: number): boolean {
  let inside = false
  for (const ring of rings(g))
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i]
      const [xj, yj] = ring[j]
      if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside
    }
  return inside
}
