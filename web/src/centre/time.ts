// The district's time (the platform's utc_offset_hours, +8 for Shenzhen) whatever the browser's own zone,
// and the platform's clock (which a demo may run ahead or behind the wall clock) as the "now" of the screen.

const pad = (n: number): string => String(n).padStart(2, '0')

/** The district's wall-clock fields of a moment. */
export function districtParts(ms: number, offsetHours: number): { y: number; mo: number; d: number; h: number; mi: number; s: number; wd: number } {
  const t = new Date(ms + offsetHours * 3600_000)
  return {
    y: t.getUTCFullYear(),
    mo: t.getUTCMonth() + 1,
    d: t.getUTCDate(),
    h: t.getUTCHours(),
    mi: t.getUTCMinutes(),
    s: t.getUTCSeconds(),
    wd: t.getUTCDay(),
  }
}

/** "14:05:09" */
export function clock(ms: number, offsetHours: number, seconds = true): string {
  const p = districtParts(ms, offsetHours)
  return seconds ? `${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}` : `${pad(p.h)}:${pad(p.mi)}`
}

/** "2025-03-08" */
export function day(ms: number, offsetHours: number): string {
  const p = districtParts(ms, offsetHours)
  return `${p.y}-${pad(p.mo)}-${pad(p.d)}`
}

/** "03-08 14:05" */
export function shortDateTime(ms: number, offsetHours: number): string {
  const p = districtParts(ms, offsetHours)
  return `${pad(p.mo)}-${pad(p.d)} ${pad(p.h)}:${pad(p.mi)}`
}

/** The start of the district's day holding `ms`, as the local ISO time the platform's `from` parameters read. */
export function midnightLocalIso(ms: number, offsetHours: number): string {
  return `${day(ms, offsetHours)}T00:00:00`
}

/** Milliseconds of an ISO time from the platform, or NaN. */
export function parseMs(iso: string | null | undefined): number {
  return iso ? Date.parse(iso) : NaN
}

/** How far the platform's clock is ahead of this browser's (as_of of a fresh answer minus the time it came). */
export function skewOf(asOf: string | null | undefined, receivedAt: number): number {
  const at = parseMs(asOf)
  return Number.isFinite(at) ? at - receivedAt : 0
}
