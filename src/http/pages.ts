import type { ReturnOutcome } from '../app/return-from-paypal.ts';

/**
 * The pages a buyer sees when PayPal sends them back: plain server-rendered
 * HTML, no external assets, readable on a phone. Every dynamic value goes
 * through escapeHtml, so nothing from the query string (or a server or tier
 * name) can inject markup.
 */

export type Tone = 'success' | 'info' | 'warning';

export interface Page {
  status: number;
  /** The document title and the heading. */
  heading: string;
  /** Plain text, escaped when rendered. */
  paragraphs: string[];
  tone: Tone;
}

/** Headers that go with every page: no caching, no referrer (the return URL carries PayPal tokens), nothing loaded from elsewhere. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

const DATE = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeZone: 'UTC' });

/** "23 November 2026": the page cannot know the reader's time zone, so UTC. */
export function formatDate(t: number): string {
  return DATE.format(new Date(t));
}

const ACCENT: Record<Tone, string> = { success: '#2e7d32', info: '#3949ab', warning: '#b26a00' };

export function renderPage(p: Page, siteName: string): string {
  const title = `${p.heading} · ${siteName}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1f2328}
main{max-width:34rem;margin:12vh auto 2rem;padding:1.5rem 1.75rem;background:#fff;border-radius:12px;border-top:6px solid ${ACCENT[p.tone]};box-shadow:0 2px 12px rgba(0,0,0,.08)}
h1{font-size:1.4rem;line-height:1.3;margin:0 0 .75rem}
p{margin:.6rem 0}
footer{margin-top:1.25rem;font-size:.85rem;color:#656d76}
@media (max-width:36rem){main{margin:1rem;padding:1.25rem}}
</style>
</head>
<body>
<main>
<h1>${escapeHtml(p.heading)}</h1>
${p.paragraphs.map((t) => `<p>${escapeHtml(t)}</p>`).join('\n')}
<footer>${escapeHtml(siteName)}</footer>
</main>
</body>
</html>
`;
}

const BACK = 'You can close this page and return to Discord.';
const subscriptionOf = (tierName: string | null) => (tierName === null ? 'subscription' : `${tierName} subscription`);

/** What the return page says for each outcome of applying the subscription. */
export function returnPage(o: ReturnOutcome, serverName: string): Page {
  switch (o.kind) {
    case 'active':
      if (!o.linked) {
        return {
          status: 200,
          tone: 'warning',
          heading: `Your ${o.tierName} subscription is active`,
          paragraphs: ['PayPal confirmed it, but it is not linked to a Discord account, so no role was given yet. Staff have been told; please contact them in the server.'],
        };
      }
      if (o.carried !== null) {
        return {
          status: 200,
          tone: 'success',
          heading: `Your change to ${o.tierName} is confirmed`,
          paragraphs: [`You keep ${o.carried.tierName} in ${serverName} until ${formatDate(o.carried.until)}, the end of the period you paid for; ${o.tierName} starts then.`, BACK],
        };
      }
      return {
        status: 200,
        tone: 'success',
        heading: `You are now ${o.tierName} in ${serverName}`,
        paragraphs: [`Your payment is confirmed and your ${o.tierName} role is on its way; it usually appears within seconds.`, `${BACK} Use /status there to see your membership.`],
      };
    case 'waiting':
      return {
        status: 200,
        tone: 'info',
        heading: 'Almost there',
        paragraphs: [
          `PayPal has not confirmed your ${subscriptionOf(o.tierName)} yet. It will be applied within a minute and your role in ${serverName} appears by itself; there is no need to keep this page open.`,
          BACK,
        ],
      };
    case 'unavailable':
      return {
        status: 200,
        tone: 'info',
        heading: 'Thank you! We are waiting for PayPal',
        paragraphs: [
          `PayPal is not answering us right now. Your membership in ${serverName} will be applied as soon as PayPal confirms it; you do not need to do anything.`,
          'If no role shows up within an hour, run /status in Discord or ask staff.',
        ],
      };
    case 'ended':
      return {
        status: 200,
        tone: 'warning',
        heading: 'This subscription is not active',
        paragraphs: [`PayPal reports this ${subscriptionOf(o.tierName)} as ended (cancelled, suspended or refunded), so it gives no access. Use /subscribe in Discord to start a new one.`],
      };
    case 'unknown':
    case 'invalid':
      return {
        status: 404,
        tone: 'warning',
        heading: 'We could not find that subscription',
        paragraphs: [
          'This link does not match a PayPal subscription of ours. If you have just paid, your membership will be applied as soon as PayPal confirms it; run /status in Discord to check.',
          'To start again, use /subscribe in the server.',
        ],
      };
  }
}

export function cancelPage(): Page {
  return {
    status: 200,
    tone: 'info',
    heading: 'No payment was taken',
    paragraphs: ['You left PayPal without approving, so nothing was charged and nothing changed.', 'To try again, use /subscribe in Discord.'],
  };
}

export function failurePage(): Page {
  return {
    status: 500,
    tone: 'warning',
    heading: 'Something went wrong on our side',
    paragraphs: ['Nothing is lost: if you approved on PayPal, your membership will be applied as soon as PayPal confirms it. Run /status in Discord to check.'],
  };
}

export function tooManyRequestsPage(): Page {
  return { status: 429, tone: 'warning', heading: 'Too many requests', paragraphs: ['Please wait a minute, then reload this page.'] };
}
