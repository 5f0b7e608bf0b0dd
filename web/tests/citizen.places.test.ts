// The pin-picker's geometry and the facility page's settings, as a resident would check them: a tap lands
// where it was made, a point outside the district is not taken, settings read as words with units.
import { describe, expect, it } from 'vitest'
import { bounds, contains, pathOf, project, type Feature } from '../src/citizen/geo'
import { fitWithin } from '../src/citizen/photo'
import { humanise, settingRows, unitOf } from '../src/citizen/settings'
import { messages } from '../src/citizen/messages'

const square: Feature = {
  geometry: { type: 'Polygon', coordinates: [[[114.0, 22.5], [114.1, 22.5], [114.1, 22.6], [114.0, 22.6], [114.0, 22.5]]] },
}

describe('the district outline', () => {
  it('finds the bounds of every ring', () => {
    expect(bounds([square])).toEqual([114.0, 22.5, 114.1, 22.6])
    expect(bounds([])).toBeNull()
  })
  it('projects north up and back again to the same place', () => {
    const p = project([114.0, 22.5, 114.1, 22.6], 360)
    const [x1, y1] = p.toXY(114.0, 22.6)
    const [x2, y2] = p.toXY(114.1, 22.5)
    expect(x1).toBeCloseTo(8)
    expect(y1).toBeCloseTo(8)
    expect(x2).toBeCloseTo(352)
    expect(y2).toBeGreaterThan(y1)
    // a degree of longitude is shorter than one of latitude at 22.5°N: the map is taller than wide
    expect(p.height).toBeGreaterThan(360)
    const [lon, lat] = p.toLonLat(...p.toXY(114.0553, 22.5407))
    expect(lon).toBeCloseTo(114.0553, 6)
    expect(lat).toBeCloseTo(22.5407, 6)
  })
  it('draws a closed path per ring', () => {
    const d = pathOf(square.geometry, project([114.0, 22.5, 114.1, 22.6], 100))
    expect(d.startsWith('M')).toBe(true)
    expect(d.endsWith('Z')).toBe(true)
    expect(pathOf({ type: 'MultiPolygon', coordinates: [square.geometry!.coordinates, square.geometry!.coordinates] }, project([114.0, 22.5, 114.1, 22.6], 100)).split('Z').length).toBe(3)
  })
  it('takes a tap inside the district and not outside', () => {
    expect(contains(square.geometry, 114.05, 22.55)).toBe(true)
    expect(contains(square.geometry, 114.2, 22.55)).toBe(false)
    expect(contains(null, 114.05, 22.55)).toBe(false)
  })
})

describe('photos before sending', () => {
  it('shrinks a large photo to 2048 px on its longer side, keeping its shape, and never enlarges', () => {
    expect(fitWithin(4032, 3024)).toEqual([2048, 1536])
    expect(fitWithin(3024, 4032)).toEqual([1536, 2048])
    expect(fitWithin(800, 600)).toEqual([800, 600])
  })
})

describe("a facility's settings", () => {
  const zh = messages['zh-CN'] as Record<string, Record<string, string> | string>
  const look = (key: string) => {
    const [group, name] = key.includes('.') ? key.split('.') : [key, '']
    const v = name ? (zh[group] as Record<string, string> | undefined)?.[name] : zh[group]
    return typeof v === 'string' ? v : null
  }
  it('reads units from the key', () => {
    expect(unitOf('pole_height_m')).toBe('m')
    expect(unitOf('area_m2')).toBe('m²')
    expect(unitOf('diameter_mm')).toBe('mm')
    expect(unitOf('pressure_mpa')).toBe('MPa')
    expect(unitOf('watts')).toBe('W')
    expect(unitOf('lamp')).toBe('')
  })
  it('makes an unknown machine word readable', () => {
    expect(humanise('max_flow_l')).toBe('Max flow')
    expect(humanise('colour')).toBe('Colour')
  })
  it('shows a street light the way a passer-by reads it', () => {
    const rows = settingRows({ lamp: 'high_pressure_sodium', watts: 100, pole_height_m: 8, on: '18:30' }, look, '、')
    expect(rows).toEqual([
      { key: 'lamp', label: '光源', value: '高压钠灯' },
      { key: 'watts', label: '功率', value: '100 W' },
      { key: 'pole_height_m', label: '灯杆高度', value: '8 m' },
      { key: 'on', label: '开灯时间', value: '18:30' },
    ])
  })
  it('writes yes/no, lists and unknown values as words', () => {
    const rows = settingRows({ accessible: true, compartments: ['recyclable', 'other'], material: 'ductile iron', colour_code: 'dark_green' }, look, '、')
    expect(rows.map((r) => r.value)).toEqual(['有', '可回收物、其他垃圾', '球墨铸铁', 'dark green'])
    expect(rows[3].label).toBe('Colour code')
  })
  it('has nothing to show for no settings', () => {
    expect(settingRows(null, look)).toEqual([])
  })
})

describe('the catalogue', () => {
  const keys = (o: object, p = ''): string[] =>
    Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' ? keys(v, `${p}${k}.`) : [`${p}${k}`]))
  it('has the same keys in Chinese and English, none empty', () => {
    expect(keys(messages.en).sort()).toEqual(keys(messages['zh-CN']).sort())
    for (const lang of [messages.en, messages['zh-CN']]) for (const k of keys(lang)) expect(k.length).toBeGreaterThan(0)
  })
})
