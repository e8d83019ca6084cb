import { formatDiscordDate, SEVERITY_COLORS, type Embed } from './messages.ts';

/**
 * The community's publisher profile on the marketplace (`/publisher`):
 * what staff may set, and how it is shown. Pure: fetching an icon to learn
 * its type and size happens in the adapter, which hands the facts in here.
 */

export const BIO_MAX = 1000;
/** The marketplace shows the icon small; 2 MiB is plenty for any sensible avatar. */
export const ICON_MAX_BYTES = 2 * 1024 * 1024;
/** Raster formats only: an SVG can carry script, and the marketplace would serve it to buyers. */
export const ICON_TYPES: readonly string[] = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];
/** Browsers and most servers stop at about 2,000 characters. */
const URL_MAX = 2000;

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

export function checkBio(text: string): Checked<string> {
  const bio = text.trim();
  if (bio.length === 0) return { ok: false, message: 'The bio is empty; write a few words about the community.' };
  if (bio.length > BIO_MAX) return { ok: false, message: `The bio is ${bio.length} characters; the limit is ${BIO_MAX}.` };
  return { ok: true, value: bio };
}

/** An absolute https URL without user or password (they would be published with the profile). */
export function checkHttpsUrl(text: string, what: string): Checked<string> {
  const raw = text.trim();
  if (raw.length > URL_MAX) return { ok: false, message: `The ${what} is longer than ${URL_MAX} characters.` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, message: `\`${raw.slice(0, 100)}\` is not a URL; the ${what} must start with https://` };
  }
  if (url.protocol !== 'https:') return { ok: false, message: `The ${what} must use https:// (got ${url.protocol.replace(':', '')}).` };
  if (url.username !== '' || url.password !== '') return { ok: false, message: `The ${what} must not contain a user name or password.` };
  return { ok: true, value: url.href };
}

export interface ImageFacts {
  /** The Content-Type the server (or Discord, for an attachment) gave, null when none. */
  contentType: string | null;
  bytes: number;
}

export function checkIcon(f: ImageFacts): Checked<ImageFacts> {
  const type = (f.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!ICON_TYPES.includes(type)) return { ok: false, message: `The icon must be a PNG, JPEG, GIF or WebP image; it is ${type === '' ? 'of no stated type' : `\`${type.slice(0, 60)}\``}.` };
  // A fetched icon is read only up to just past the limit, so its size is known only to be "more".
  if (f.bytes > ICON_MAX_BYTES) return { ok: false, message: 'The icon is larger than 2 MiB, the limit; use a smaller image.' };
  return { ok: true, value: { contentType: type, bytes: f.bytes } };
}

export interface PublisherProfileFacts {
  bio: string;
  url: string | null;
  iconUrl: string | null;
  version: number;
  updatedBy: string | null;
  updatedAt: number;
}

/** A URL may be longer than Discord's 1,024-character field. */
function shorten(text: string): string {
  return text.length <= 1000 ? text : `${text.slice(0, 999)}…`;
}

export function publisherEmbed(p: PublisherProfileFacts | undefined): Embed {
  if (p === undefined) {
    return { title: 'Publisher profile', description: 'Nothing set yet. Use `/publisher set-bio`, `set-url` and `set-icon`.', color: SEVERITY_COLORS.info };
  }
  return {
    title: 'Publisher profile',
    description: p.bio === '' ? '*(no bio yet: `/publisher set-bio`)*' : p.bio,
    color: SEVERITY_COLORS.info,
    fields: [
      { name: 'URL', value: shorten(p.url ?? 'not set'), inline: true },
      { name: 'Icon', value: shorten(p.iconUrl ?? 'not set'), inline: true },
      { name: 'Version', value: `${p.version}${p.updatedBy === null ? '' : `, changed by <@${p.updatedBy}> on ${formatDiscordDate(p.updatedAt)}`}` },
    ],
  };
}
