import type { Config } from '../../config.ts';
import { expectedWebhookUrl, findMissingEventTypes } from '../../core/webhook-subscription.ts';
import type { TierCatalog } from '../../core/tiers.ts';
import { reportDiscordSetup } from '../../discord/setup-report.ts';
import { ConciergeError } from '../../errors.ts';
import { createPaypalClient, type PaypalWebhook } from '../../paypal/client.ts';
import type { DoctorReport } from './report.ts';

/**
 * doctor's checks with the outside world, run side by side: PayPal accepts
 * the credentials and has PAYPAL_WEBHOOK_ID pointing at this service with
 * the events it needs; Discord accepts the token and the server is set up
 * (discord/setup-report.ts).
 */
export async function checkRemote(r: DoctorReport, config: Config, catalog: TierCatalog | null): Promise<void> {
  const [paypal, discord] = await Promise.all([
    checkPaypal(config),
    reportDiscordSetup({
      ...config.discord,
      tierRoles: (catalog?.tiers ?? []).map((t) => ({ id: t.role_id, name: t.name })),
    }),
  ]);
  r.found.push(...paypal.found, ...discord.found.map((f) => `Discord: ${f}`));
  r.problems.push(...paypal.problems, ...discord.problems);
}

async function checkPaypal(config: Config): Promise<{ found: string[]; problems: string[] }> {
  const { paypal: p } = config;
  // One attempt per call: doctor reports an outage rather than waiting it out.
  const client = createPaypalClient({ clientId: p.clientId, clientSecret: p.clientSecret, apiUrl: p.apiUrl, mode: p.mode, timeoutMs: p.timeoutMs, maxRetries: 0 });
  let hooks: PaypalWebhook[];
  try {
    hooks = await client.listWebhooks();
  } catch (err) {
    return { found: [], problems: [describePaypalFailure(err, config)] };
  } finally {
    client.close();
  }
  const found = [`PayPal (${p.mode}, ${p.apiUrl}): credentials accepted`];
  const hook = hooks.find((h) => h.id === p.webhookId);
  if (hook === undefined) {
    const known = hooks.length === 0 ? 'it has none' : `its webhooks: ${hooks.map((h) => `${h.id} → ${h.url}`).join(', ')}`;
    // Sandbox and live apps have separate webhooks: an id copied in the other mode is the usual cause.
    return { found, problems: [`PAYPAL_WEBHOOK_ID ${p.webhookId}: not a webhook of this PayPal ${p.mode} app (${known}); copy the id from Apps & Credentials (${p.mode}) → your app → Webhooks`] };
  }
  found.push(`PayPal webhook ${hook.id} → ${hook.url}, events: ${hook.eventTypes.join(', ')}`);
  const problems: string[] = [];
  const url = expectedWebhookUrl(config.http.publicUrl);
  if (hook.url !== url) problems.push(`PAYPAL_WEBHOOK_ID ${hook.id}: PayPal delivers to ${hook.url}, but this service receives at ${url} (PUBLIC_URL); edit the webhook's URL at PayPal or fix PUBLIC_URL`);
  const missing = findMissingEventTypes(hook.eventTypes);
  if (missing.length > 0) problems.push(`PAYPAL_WEBHOOK_ID ${hook.id}: not subscribed to ${missing.join(', ')}; add them to the webhook at PayPal`);
  return { found, problems };
}

function describePaypalFailure(err: unknown, config: Config): string {
  const { paypal: p } = config;
  if (err instanceof ConciergeError && (err.context['status'] === 401 || err.code === 'paypal_invalid_client')) {
    return `PAYPAL_CLIENT_ID / PAYPAL_CLIENT_SECRET: PayPal (${p.mode}) refused the credentials: check them, and that they belong to a ${p.mode} app (PAYPAL_MODE) — ${err.message}`;
  }
  return `PAYPAL_API_URL ${p.apiUrl}: cannot check with PayPal: ${err instanceof Error ? err.message : String(err)}`;
}
