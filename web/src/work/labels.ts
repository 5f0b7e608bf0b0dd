// The facility kinds the registry prints QR labels for (registry/schemas.py FacilityKind), and the sheet's
// address and file name for an area and a kind.
import { qs } from '../lib/api'

export const FACILITY_KINDS = [
  'street_light',
  'manhole_cover',
  'rubbish_bin',
  'newsstand',
  'fire_hydrant',
  'guard_rail',
  'bus_shelter',
  'traffic_signal',
  'bench',
  'public_toilet',
  'camera_pole',
] as const

export function sheetPath(area: string, kind: string, limit?: number | null): string {
  return '/api/v1/registry/facilities/labels.svg' + qs({ area, kind: kind || undefined, limit: limit || undefined })
}

export function sheetFileName(area: string, kind: string): string {
  return `labels-${area}-${kind || 'all'}.svg`
}
