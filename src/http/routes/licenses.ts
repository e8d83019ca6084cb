import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { verifyLicense, type LicenseDeps } from '../../app/verify-license.ts';

export interface LicenseRouteDeps extends LicenseDeps {
  /** Checks per client IP per minute (default LICENSE_CHECKS_PER_MINUTE). */
  perMinute?: number;
}

/**
 * A script checks its serial when it starts, so a client needs a few a
 * minute; 30 leaves room for a household behind one address and keeps one
 * client from spending more than a trickle of guesses on 79-bit serials.
 * (nginx's own per-IP limit in front is coarser: 5 r/s.)
 */
export const LICENSE_CHECKS_PER_MINUTE = 30;

/** A serial is 23 characters; room for spaces and a pasted line break, nothing like a payload. */
const BODY_LIMIT = 4096;

const requestSchema = z.object({
  serial: z.string().min(1).max(100),
  script: z.string().min(1).max(100),
});

const USAGE = 'the body must be JSON {"serial": "CNC-XXXX-XXXX-XXXX-XXXX", "script": "<script key>"}';

/**
 * POST /api/v1/licenses/verify (SPEC "License API"): `{valid:true, tier,
 * expires_at}` or `{valid:false}`, the same shape for every failure. A body
 * that is not that request is a 400 `invalid_body` with the reason (it says
 * nothing about any serial). Rate-limited per client IP, which behind nginx
 * is the forwarded address, believed only from TRUST_PROXY peers.
 */
export function registerLicenseRoutes(app: FastifyInstance, deps: LicenseRouteDeps): void {
  app.register(async (scope) => {
    await scope.register(rateLimit, {
      max: deps.perMinute ?? LICENSE_CHECKS_PER_MINUTE,
      timeWindow: 60_000,
      // Thrown to the error handler below; `code` becomes the JSON reason, like every other route's.
      errorResponseBuilder: (_req, ctx) => Object.assign(new Error(`rate limit exceeded, retry in ${ctx.after}`), { statusCode: ctx.statusCode, code: 'rate_limited' }),
    });
    scope.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
      const status = err.statusCode ?? 500;
      if (status >= 500) {
        req.log.error({ err }, 'license check failed');
        return reply.code(500).send({ error: 'internal_error' });
      }
      if (status === 429) return reply.code(429).send({ error: 'rate_limited' });
      if (status === 413) return reply.code(413).send({ error: 'body_too_large' });
      // Wrong content type, unparsable JSON: the client's request, not a serial, is wrong.
      return reply.code(status).send({ error: 'invalid_body', detail: status === 415 ? `send Content-Type: application/json; ${USAGE}` : USAGE });
    });

    scope.post('/api/v1/licenses/verify', { bodyLimit: BODY_LIMIT }, async (req, reply) => {
      void reply.header('cache-control', 'no-store');
      const parsed = requestSchema.safeParse(req.body);
      if (!parsed.success) {
        const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
        return reply.code(400).send({ error: 'invalid_body', detail: `${detail}; ${USAGE}` });
      }
      const verdict = verifyLicense(deps, parsed.data);
      return verdict.valid ? { valid: true, tier: verdict.tier, expires_at: verdict.expiresAt === null ? null : new Date(verdict.expiresAt).toISOString() } : { valid: false };
    });
  });
}
