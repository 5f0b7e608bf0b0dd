// Photos from a phone camera are often 5-12 MB (and on some phones HEIC): before sending, a large or
// unaccepted one is redrawn as a JPEG at most 2048 px on its longer side, which keeps the detail a
// department needs and spares the resident's data plan.
import { PHOTO_TYPES } from './open311'

export const MAX_SIDE = 2048
const SHRINK_ABOVE = 2.5 * 1024 * 1024

/** The size to draw a w×h image at so that its longer side is at most `max` (never enlarged). */
export function fitWithin(w: number, h: number, max = MAX_SIDE): [number, number] {
  const k = Math.min(1, max / Math.max(w, h, 1))
  return [Math.max(1, Math.round(w * k)), Math.max(1, Math.round(h * k))]
}

/** The file as it will be sent: unchanged when small and of an accepted type, else a smaller JPEG; the
 * original when the browser cannot decode it (the platform then says what is wrong). */
export async function prepare(file: File): Promise<File> {
  if (PHOTO_TYPES.includes(file.type) && file.size <= SHRINK_ABOVE) return file
  try {
    const bitmap = await createImageBitmap(file)
    const [w, h] = fitWithin(bitmap.width, bitmap.height)
    const canvas = document.createElement('canvas')
    canvas.width = w
    canvas.height = h
    canvas.getContext('2d')?.drawImage(bitmap, 0, 0, w, h)
    bitmap.close()
    const blob = await new Promise<Blob | null>((r) => canvas.toBlob(r, 'image/jpeg', 0.85))
    if (!blob) return file
    const name = file.name.replace(/\.[^.]*$/, '') + '.jpg'
    return new File([blob], name, { type: 'image/jpeg' })
  } catch {
    return file
  }
}
