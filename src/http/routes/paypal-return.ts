import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { abandonCheckout, returnFromPaypal, type ReturnDeps } from '../../app/return-from-paypal.ts';
import { cancelPage, failurePage, PAGE_HEADERS, renderPage, returnPage, tooManyRequestsPage, type Page } from '../pages.ts';

export interface PaypalReturnDeps extends ReturnDeps {
  /** The Discord server's name, shown on the pages. */
  serverName(): string;
}

/**
 * Per client IP: a buyer loads these pages once or twice per checkout, and
 * a return-page hit for a stored subscription reads PayPal, so 30 a minute is plenty for people
 * and keeps one client from turning the page into a PayPal load generator.
 * (nginx's own per-IP limit is coarser: 10 r/s.)
 */
const PAGES_PER_MINUTE = 30;

/** One query value, or undefined when it is absent, repeated or not text. */
function one(query: unknown, name: string): string | undefined {
  const v = typeof query === 'object' && query !== null ? (query as Record<string, unknown>)[name] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/**
 * `GET /paypal/return` and `GET /paypal/cancel`, where PayPal sends the buyer
 * back (SPEC "Return page"): friendly HTML pages, never a 5xx stack and
 * never anything from the query string unescaped. Rate-limited per client IP
 * (behind nginx, the forwarded address) since a hit may call PayPal.
 */
export function registerPaypalReturnRoutes(app: FastifyInstance, deps: PaypalReturnDeps): void {
  const send = (reply: FastifyReply, page: Page) => reply.code(page.status).headers(PAGE_HEADERS).send(renderPage(page, deps.serverName()));

  app.register(async (scope) => {
    await scope.register(rateLimit, { max: PAGES_PER_MINUTE, timeWindow: 60_000 });
    // Errors here (a 429 from the limiter, anything unexpected) are pages too, not the API's JSON.
    scope.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
      if (err.statusCode === 429) return send(reply, tooManyRequestsPage());
      req.log.error({ err }, 'PayPal return page failed');
      return send(reply, failurePage());
    });

    scope.get('/paypal/return', async (req, reply) => {
      const subscriptionId = one(req.query, 'subscription_id');
      const outcome = await returnFromPaypal(deps, { subscriptionId, baToken: one(req.query, 'ba_token') });
      if (outcome.kind === 'unavailable') req.log.warn({ err: outcome.error, subscriptionId }, 'PayPal could not be read for the return page; a refresh job will apply it');
      else req.log.info({ subscriptionId: outcome.kind === 'invalid' ? null : subscriptionId, outcome: outcome.kind }, 'buyer returned from PayPal');
      return send(reply, returnPage(outcome, deps.serverName()));
    });

    scope.get('/paypal/cancel', async (req, reply) => {
      const abandoned = abandonCheckout(deps.store, { subscriptionId: one(req.query, 'subscription_id'), baToken: one(req.query, 'ba_token'), token: one(req.query, 'token') }, deps.clock());
      req.log.info({ abandoned }, 'buyer cancelled on PayPal');
      return send(reply, cancelPage());
    });
  });
}
