// Routes: the command centre at /, the workbench under /work (the data hub's screens under /work/data), citizens' pages under /m/ and the facility
// QR landing page at /f/<code>. Each area is its own chunk: a phone opening /m/ never loads the map engine.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { auth } from './lib/auth'
import { allowed, home, screens } from './shell/nav'

const routes: RouteRecordRaw[] = [
  { path: '/', name: 'centre', component: () => import('./centre/CentreView.vue'), meta: { screen: 'centre' } },
  { path: '/login', name: 'login', component: () => import('./shell/LoginView.vue'), meta: { public: true } },
  {
    path: '/work',
    component: () => import('./work/WorkLayout.vue'),
    children: [
      { path: '', name: 'work', redirect: () => home() },
      { path: 'triage', name: 'triage', component: () => import('./work/TriageView.vue'), meta: { screen: 'triage' } },
      { path: 'inbox', name: 'inbox', component: () => import('./work/InboxView.vue'), meta: { screen: 'inbox' } },
      { path: 'verify', name: 'verify', component: () => import('./work/VerifyView.vue'), meta: { screen: 'verify' } },
      { path: 'overdue', name: 'overdue', component: () => import('./work/OverdueView.vue'), meta: { screen: 'overdue' } },
      { path: 'alarms', name: 'alarms', component: () => import('./work/AlarmsView.vue'), meta: { screen: 'alarms' } },
      { path: 'inspections', name: 'inspections', component: () => import('./work/InspectionsView.vue'), meta: { screen: 'inspections' } },
      { path: 'tasks', name: 'tasks', component: () => import('./work/TasksView.vue'), meta: { screen: 'tasks' } },
      { path: 'labels', name: 'labels', component: () => import('./work/LabelsView.vue'), meta: { screen: 'labels' } },
      { path: 'cases/:ref', name: 'case', component: () => import('./work/CaseView.vue'), props: true },
      { path: 'insight', name: 'insight', component: () => import('./insight/InsightView.vue'), meta: { screen: 'insight' } },
      { path: 'data', name: 'catalog', component: () => import('./hub/CatalogView.vue'), meta: { screen: 'catalog' } },
      { path: 'data/sets/:code', name: 'dataset', component: () => import('./hub/DatasetView.vue'), props: true, meta: { screen: 'catalog' } },
      { path: 'data/mine', name: 'myData', component: () => import('./hub/MyDataView.vue'), meta: { screen: 'myData' } },
      { path: 'data/desk', name: 'dataDesk', component: () => import('./hub/DeskView.vue'), meta: { screen: 'dataDesk' } },
    ],
  },
  {
    path: '/m',
    component: () => import('./citizen/CitizenLayout.vue'),
    meta: { public: true },
    children: [
      { path: '', name: 'citizen', component: () => import('./citizen/HomeView.vue'), meta: { public: true } },
      { path: 'report', name: 'report', component: () => import('./citizen/ReportView.vue'), meta: { public: true } },
      { path: 'track/:number?', name: 'track', component: () => import('./citizen/TrackView.vue'), props: true, meta: { public: true } },
      { path: 'feedback/:key', name: 'feedback', component: () => import('./citizen/FeedbackView.vue'), props: true, meta: { public: true } },
    ],
  },
  {
    path: '/f/:code',
    component: () => import('./citizen/CitizenLayout.vue'),
    meta: { public: true },
    children: [{ path: '', name: 'facility', component: () => import('./citizen/FacilityView.vue'), props: true, meta: { public: true } }],
  },
  { path: '/:rest(.*)*', name: 'missing', component: () => import('./shell/NotFound.vue'), meta: { public: true } },
]

export const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  if (auth.token.value && !auth.me.value) await auth.load()
  if (!auth.me.value) return { name: 'login', query: { next: to.fullPath } }
  const screen = screens.find((s) => s.key === to.meta.screen)
  if (screen && !allowed(screen)) return home() === to.fullPath ? { name: 'citizen' } : home()
  return true
})
