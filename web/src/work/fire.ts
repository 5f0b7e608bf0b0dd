// The fire-safety hazard loop as the inspections page offers it (apps/fire_safety/lifecycle.py): which
// steps a user may take on a hazard, and the checks an inspection form makes before it is sent.
import { request } from '../lib/api'
import type { Hazard, HazardDetail } from './types'

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
  /** Taken on the spot; sent after the inspection is recorded, once the hazard has its code. */
  photos?: File[]
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

/** Photos of a hazard's latest step (as found, or as fixed): POST /fire_safety/hazards/{code}/photos. */
export function uploadHazardPhotos(code: string, files: File[]): Promise<HazardDetail> {
  const form = new FormData()
  files.forEach((f) => form.append('files', f, f.name))
  return request<HazardDetail>(`/api/v1/fire_safety/hazards/${encodeURIComponent(code)}/photos`, { method: 'POST', form })
}

/**
 * Send each hazard's photos after the inspection that found them is recorded. The platform lists an
 * inspection's hazards in the order they were sent, so the i-th draft is the i-th hazard. Goes on past a
 * failed upload (the inspection stands; the worker adds the photos later from the hazard's card) and
 * returns the hazards whose photos did not arrive, with the reason.
 */
export async function sendFoundPhotos(drafts: HazardDraft[], made: { code: string }[]): Promise<{ code: string; error: unknown }[]> {
  const failed: { code: string; error: unknown }[] = []
  for (const [i, d] of drafts.entries()) {
    const code = made[i]?.code
    if (!code || !d.photos?.length) continue
    try {
      await uploadHazardPhotos(code, d.photos)
    } catch (error) {
      failed.push({ code, error })
    }
  }
  return failed
}

/** A hazard's photos step by step (found, rectify, ...), in order, for the card's photo strip. */
export function photoSteps(h: Pick<HazardDetail, 'history'>): { transition: string; at: string; photos: number[] }[] {
  return h.history.filter((s) => s.photos.length).map((s) => ({ transition: s.transition, at: s.at, photos: s.photos }))
}
