// Which colour (tone) a state or an SLA is shown in. Colour is never the only sign: the badge always has text.
import type { Sla } from './format'

export type Tone = 'grey' | 'blue' | 'indigo' | 'teal' | 'green' | 'amber' | 'red'

const STATE_TONES: Record<string, Tone> = {
  reported: 'indigo',
  registered: 'indigo',
  returned: 'amber',
  dispatched: 'blue',
  accepted: 'blue',
  in_progress: 'blue',
  suspended: 'grey',
  resolved: 'teal',
  verified: 'green',
  closed: 'grey',
  cancelled: 'grey',
  merged: 'grey',
  // fire-safety hazards
  open: 'amber',
  rectified: 'teal',
}

export function stateTone(state: string): Tone {
  return STATE_TONES[state] ?? 'grey'
}

export function slaTone(sla: Sla): Tone {
  return sla === 'breached' ? 'red' : sla === 'warning' ? 'amber' : sla === 'ok' ? 'green' : 'grey'
}

/** Alarm levels use the four national warning colours (the theme's level-* classes). */
export function levelClass(level: string): string {
  return ['blue', 'yellow', 'orange', 'red'].includes(level) ? `level-${level}` : 'level-blue'
}
