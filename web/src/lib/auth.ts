// The logged-in user: a bearer token from the OAuth2 password flow, kept for the browser tab's session, and
// who the platform says the user is (/api/v1/auth/me: role, data scope, permissions) to shape the navigation.
import { computed, ref } from 'vue'

export interface Me {
  kind: string
  name: string
  role: string
  role_name: Record<string, string>
  scope: string
  department_id: number | null
  area_code: string | null
  permissions: string[]
}

const KEY = 'urbanbrain.token'
const token = ref<string | null>(sessionStorage.getItem(KEY))
const me = ref<Me | null>(null)
const expiredAt = ref<number>(0)

async function load(): Promise<Me | null> {
  if (!token.value) return (me.value = null)
  const res = await fetch('/api/v1/auth/me', { headers: { Authorization: `Bearer ${token.value}` } })
  if (!res.ok) {
    forget()
    return null
  }
  me.value = (await res.json()) as Me
  return me.value
}

function forget(): void {
  token.value = null
  me.value = null
  sessionStorage.removeItem(KEY)
}

export const auth = {
  token,
  me,
  expiredAt,
  loggedIn: computed(() => me.value !== null),
  can: (permission: string) => me.value?.permissions.includes(permission) ?? false,
  load,
  /** Password flow; throws the platform's error (bad credentials, too many attempts) for the form to show. */
  async login(username: string, password: string): Promise<Me | null> {
    const form = new URLSearchParams({ username, password })
    const res = await fetch('/api/v1/auth/token', {
      method: 'POST',
      body: form,
      headers: { Accept: 'application/json', 'Accept-Language': document.documentElement.lang || 'zh-CN' },
    })
    if (!res.ok) {
      const { ApiError } = await import('./api')
      throw new ApiError(res.status, await res.json().catch(() => null), res.statusText)
    }
    const body = (await res.json()) as { access_token: string }
    token.value = body.access_token
    sessionStorage.setItem(KEY, body.access_token)
    return load()
  },
  logout: forget,
  /** A 401 on a call made with a token: the token ran out; the shell sends the user to log in again. */
  expired(): void {
    forget()
    expiredAt.value = Date.now()
  },
}
