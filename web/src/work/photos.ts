// What the platform accepts as a photo (core/photos.py: cases and fire hazards): JPEG, PNG or WebP, 10 MB each. Checked here
// first so that a worker on a phone learns before a slow upload, not after it.
export const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp']
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024
export const MAX_PHOTOS = 6

export type PhotoProblem = { reason: 'tooMany'; max: number } | { reason: 'badType' | 'tooBig'; name: string }

export function checkPhotos(files: Pick<File, 'name' | 'size' | 'type'>[]): PhotoProblem | null {
  if (files.length > MAX_PHOTOS) return { reason: 'tooMany', max: MAX_PHOTOS }
  for (const f of files) {
    if (!PHOTO_TYPES.includes(f.type)) return { reason: 'badType', name: f.name }
    if (f.size > MAX_PHOTO_BYTES) return { reason: 'tooBig', name: f.name }
  }
  return null
}
