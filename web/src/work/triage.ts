// The triage queue's routing: the classifier's suggestions turned into one-click routes (class + the
// department that class goes to at the case's place), and the calls that carry one out.
import { request } from '../lib/api'
import { resolveDepartment } from './lifecycle'
import type { CaseDetail, CaseItem, Classification, MinorClass } from './types'

export interface Route {
  category: string
  department: string | null
  confidence: number | null
}

/**
 * Up to `max` distinct routes from a classification, best first: each suggested class with its department
 * resolved for the case's place (a street office or community station class goes to the place's own).
 */
export function suggestedRoutes(
  c: Pick<CaseItem, 'street_code' | 'community_code' | 'classified_as' | 'classification_confidence'>,
  classification: Pick<Classification, 'top'> | null,
  minors: Map<string, Pick<MinorClass, 'department'>>,
  max = 3,
): Route[] {
  const top: [string, number | null][] = classification?.top.length
    ? classification.top
    : c.classified_as
      ? [[c.classified_as, c.classification_confidence]]
      : []
  const seen = new Set<string>()
  const out: Route[] = []
  for (const [code, confidence] of top) {
    if (seen.has(code)) continue
    seen.add(code)
    const minor = minors.get(code)
    out.push({ category: code, department: minor ? resolveDepartment(minor.department, c) : null, confidence })
    if (out.length >= max) break
  }
  return out
}

/**
 * Route a case from triage: a case not yet registered is registered with the class first (that gives it its
 * number), then dispatched to the department. The dispatch names the class too, so a registered or returned
 * case filed under the wrong class is dispatched under the chosen one (the platform records the change).
 * Returns the case as the platform last answered.
 */
export async function routeCase(c: Pick<CaseItem, 'id' | 'state' | 'version'>, route: { category: string; department: string }): Promise<CaseDetail> {
  const path = (name: string) => `/api/v1/cases/${c.id}/actions/${name}`
  let version = c.version
  if (c.state === 'reported') {
    const registered = await request<CaseDetail>(path('register'), { method: 'POST', body: { version, category_code: route.category } })
    version = registered.version
  }
  return request<CaseDetail>(path('dispatch'), { method: 'POST', body: { version, department_code: route.department, category_code: route.category } })
}
