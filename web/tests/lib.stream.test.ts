// The live feed's client: it remembers the feed's position (the id of the last item, or of the ": live"
// marker) and sends it back as Last-Event-ID when it reconnects, so that the platform replays what was
// missed; a "gap" goes to the screen's reload hook, not into the feed.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { follow, parseSse, type FeedItem } from '../src/lib/stream'

afterEach(() => vi.unstubAllGlobals())

const ALARM = 'event: alarm\ndata: {"event":"raised","alarm_id":41}\nid: 5f3a9c1e-7\n\n'

describe('reading the stream', () => {
  it('takes the position from an item and from the marker that closes a replay', () => {
    const { items, rest, lastId } = parseSse(`: connected\n\n${ALARM}: live\nid: 5f3a9c1e-9\n\nevent: al`)
    expect(items).toEqual([{ event: 'alarm', id: '5f3a9c1e-7', data: { event: 'raised', alarm_id: 41 } }])
    expect(lastId).toBe('5f3a9c1e-9')
    expect(rest).toBe('event: al')
  })
  it('has no position before the platform gives one', () => {
    expect(parseSse(': connected\n\n').lastId).toBeNull()
  })
})

describe('reconnecting', () => {
  it('sends the last id it had, and hands a gap to the reload hook', async () => {
    const answers = [
      `: connected\n\n: live\nid: 5f3a9c1e-6\n\n${ALARM}`, // then the connection drops
      ': connected\n\nevent: gap\ndata: {"reason":"expired"}\nid: 5f3a9c1e-2050\n\n: live\nid: 5f3a9c1e-2050\n\n',
      ': connected\n\n',
    ]
    const sent: (string | null)[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (_url: string, init: RequestInit) => {
        sent.push(new Headers(init.headers).get('Last-Event-ID'))
        return new Response(answers.shift() ?? ': connected\n\n', { headers: { 'content-type': 'text/event-stream' } })
      }),
    )
    const items: FeedItem[] = []
    const onGap = vi.fn()
    const stop = follow(() => 'token', (i) => items.push(i), { onGap })
    try {
      await vi.waitFor(() => expect(sent.length).toBeGreaterThanOrEqual(3), { timeout: 5000, interval: 20 })
    } finally {
      stop()
    }
    expect(sent.slice(0, 3)).toEqual([null, '5f3a9c1e-7', '5f3a9c1e-2050'])
    expect(items.map((i) => i.event)).toEqual(['alarm'])
    expect(onGap).toHaveBeenCalledTimes(1)
  })
})
