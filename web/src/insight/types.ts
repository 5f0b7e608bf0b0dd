// The shapes /api/v1/insight sends (urbanbrain/apps/insight/queries.py); only what the dashboard uses.
export interface Named {
  code: string | null
  name?: string | null
  name_en?: string | null
}

export interface CaseCounts extends Named {
  reported: number
  open: number
  closed: number
}

export interface OnTime {
  dispatched: number
  resolved: number
  on_time: number
  closed: number
  breached: number
  on_time_rate: number | null
}

export interface DepartmentRank extends OnTime {
  code: string | null
  rank: number
}

export interface OverdueCase {
  number: string
  title: string
  state: string
  category_code: string | null
  department_code: string | null
  street_code: string | null
  community_code: string | null
  hours_over: number
}

export interface Kpis {
  from: string
  to: string
  area: string | null
  area_name: string | null
  as_of: string
  generation: number
  cases: {
    reported: number
    open: number
    closed: number
    emergency: number
    by_day: { day: string; reported: number; closed: number }[]
    by_class: CaseCounts[]
    by_category: CaseCounts[]
    by_area: CaseCounts[]
  }
  on_time: OnTime
  departments: DepartmentRank[]
  overdue: { count: number; by_department: { code: string | null; overdue: number }[]; cases: OverdueCase[] }
  alarms: { raised: number; active: number; acknowledged: number; cleared: number; with_case: number; by_level: Record<string, number> }
  hazards: { found: number; rectified: number; closed: number; open: number; overdue: number; rectification_rate: number | null; on_time_rate: number | null }
  devices: { total: number; online?: number; silent?: number; alarm?: number; disabled?: number; online_rate: number | null }
}

export interface Hotspot {
  cell: string
  lon: number
  lat: number
  community_code: string
  cases: number
  expected: number
  usual_range: [number, number]
  ratio: number
  p_value: number
  top_class: { code: string; cases: number }
  reason: Record<string, string>
}

export interface Hotspots {
  last_day: string
  window_days: number
  weeks: number
  items: Hotspot[]
}

export interface ForecastPoint {
  day: string
  mean: number
  lower: number
  upper: number
  baseline: number
}

export interface ForecastItem {
  code: string
  name: string | null
  history: { day: string; cases: number }[]
  forecast: ForecastPoint[]
  backtest: { mae: number | null; baseline_mae: number | null }
}

export interface Forecasts {
  by: 'class' | 'area'
  last_day: string
  horizon: number
  level: number
  items: ForecastItem[]
}
