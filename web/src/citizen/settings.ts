// A facility's settings ({"pole_height_m": 8, "lamp": "LED"}) as lines a passer-by reads: the key's name from
// the catalogue (or the machine word made readable), the unit its suffix names, known values translated.

export interface SettingRow {
  key: string
  label: string
  value: string
}

/** Looks a catalogue key up; null when the catalogue has no such key. */
export type Lookup = (key: string) => string | null

// Units as key suffixes say them, longest first so "_m2" is not read as "_m".
const UNITS: [string, string][] = [
  ['_mpa', 'MPa'],
  ['_m2', 'm²'],
  ['_mm', 'mm'],
  ['_m', 'm'],
  ['_l', 'L'],
  ['_s', 's'],
]
const KEY_UNITS: Record<string, string> = { watts: 'W' }

export function unitOf(key: string): string {
  if (KEY_UNITS[key]) return KEY_UNITS[key]
  for (const [suffix, unit] of UNITS) if (key.endsWith(suffix)) return unit
  return ''
}

/** "pole_height_m" -> "Pole height": the unit goes with the value. */
export function humanise(key: string): string {
  let base = key
  for (const [suffix] of UNITS)
    if (base.endsWith(suffix)) {
      base = base.slice(0, -suffix.length)
      break
    }
  const words = base.replace(/[_-]+/g, ' ').trim()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

function valueText(v: unknown, unit: string, look: Lookup, list: string): string {
  if (typeof v === 'boolean') return look(v ? 'yes' : 'no') ?? String(v)
  if (typeof v === 'number') return unit ? `${v} ${unit}` : String(v)
  if (Array.isArray(v)) return v.map((x) => valueText(x, '', look, list)).join(list)
  if (v === null || v === undefined) return '—'
  if (typeof v === 'object') return JSON.stringify(v)
  const s = String(v)
  // catalogue keys are single words: "ductile iron" is looked up as ductile_iron
  const known = /^[\w ]{1,40}$/.test(s) ? look(`settingValues.${s.replace(/ /g, '_')}`) : null
  return known ?? s.replace(/_/g, ' ')
}

/** The rows to show, in the platform's order. `list` joins list values ("、" in Chinese). */
export function settingRows(settings: Record<string, unknown> | null | undefined, look: Lookup, list = ', '): SettingRow[] {
  return Object.entries(settings ?? {}).map(([key, v]) => ({
    key,
    label: look(`settingKeys.${key}`) ?? humanise(key),
    value: valueText(v, unitOf(key), look, list),
  }))
}
