// The fire-safety hazard loop as the inspections page offers it (apps/fire_safety/lifecycle.py): which
// steps a user may take on a hazard, and the checks an inspection form makes before it is sent.
import type { Hazard } from './types'

export type HazardAction = 'rectify' | 'reinspect' | 'escalate'

export function hazardActions(h: Pick<Hazard, 'state' | 'severity' | 'overdue' | 'case_number'>, can: (p: string) => boolean): HazardAction[] {
  const out: HazardAction[] = []
  if (h.state === 'open' && can('fire_safety.hazards.rectify')) out.push('rectify')
  if (h.state === 'rectified' && can('fire_safety.hazards.reinspect')) out.push('reinspect')
  // only a major or overdue hazard goes to the governance core, once
  if (h.state !== 'closed' && !h.case_number && (h.severity === 'major' || h.overdue) && can('fire_safety.hazards.escalate')) out.push('escalate')
  return out
}

export interface HazardDraft {
  type_code: string
  severity: 'general' | 'major'
  description: string
}

export interface InspectionDraft {
  target_kind: 'building' | 'venue'
  target_code: string
  note: string
  hazards: HazardDraft[]
}

/** The first thing wrong with a draft (a catalogue key under work.inspect.invalid), or null when it can go. */
export function inspectionProblem(d: InspectionDraft): 'target' | 'hazardType' | 'hazardText' | 'tooMany' | null {
  if (!d.target_code.trim()) return 'target'
  if (d.hazards.length > 50) return 'tooMany'
  for (const h of d.hazards) {
    if (!h.type_code) return 'hazardType'
    if (!h.description.trim()) return 'hazardText'
  }
  return null
}

/** The body POST /fire_safety/inspections takes (InspectionCreate). */
export function inspectionBody(d: InspectionDraft): Record<string, unknown> {
  return {
    target_kind: d.target_kind,
    target_code: d.target_code.trim(),
    note: d.note.trim() || null,
    hazards: d.hazards.map((h) => ({ type_code: h.type_code, severity: h.severity, description: h.description.trim() })),
  }
}
