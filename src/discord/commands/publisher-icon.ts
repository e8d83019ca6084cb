import type { ImageProbe } from '../../app/publisher-profile.ts';
import { ICON_MAX_BYTES } from '../../core/publisher-profile.ts';

/**
 * Fetches an icon link a staff member gave `/publisher set-icon`, to learn
 * what it serves (its Content-Type and size) before the marketplace is told
 * to show it. Reads at most ICON_MAX_BYTES + 1 bytes: enough to know it is
 * too big without downloading a large file. Only staff reach it, and only
 * https links (checked before), so the bot is no open fetcher.
 */

/** An image host that takes longer than this would also fail the marketplace. */
const PROBE_TIMEOUT_MS = 5_000;

export function createIconProbe(o: { timeoutMs?: number } = {}): ImageProbe {
  return {
    async probe(url) {
      let res: Response;
      try {
        res = await fetch(url, { redirect: 'follow', headers: { accept: 'image/*' }, signal: AbortSignal.timeout(o.timeoutMs ?? PROBE_TIMEOUT_MS) });
      } catch (err) {
        const why = err instanceof Error && err.name === 'TimeoutError' ? 'no answer within 5 s' : err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
        return { ok: false, message: `Could not fetch the icon (${why}); check that the link opens in a browser.` };
      }
      if (!res.url.startsWith('https:')) {
        await res.body?.cancel();
        return { ok: false, message: 'The icon link redirects to an address without https://; use a direct https:// link to the image.' };
      }
      if (!res.ok) {
        await res.body?.cancel();
        return { ok: false, message: `The icon link answered HTTP ${res.status}; use a direct link to the image.` };
      }
      return { ok: true, image: { contentType: res.headers.get('content-type'), bytes: await countBytes(res, ICON_MAX_BYTES + 1) } };
    },
  };
}

/** The body's length, reading no more than `limit` bytes (a larger body counts as `limit`). */
async function countBytes(res: Response, limit: number): Promise<number> {
  if (res.body === null) return 0;
  const reader = res.body.getReader();
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    bytes += value.byteLength;
    if (bytes >= limit) {
      await reader.cancel();
      return limit;
    }
  }
}
