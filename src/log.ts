import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * The one root logger. Secrets are redacted by path wherever they appear, so a
 * config object or a request header logged by mistake does not leak them.
 */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'clientSecret',
  '*.clientSecret',
  'secret',
  '*.secret',
  'key',
  '*.key',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
  'metricsToken',
  '*.metricsToken',
  'access_token',
  '*.access_token',
];

export function createLogger(level: LevelWithSilent, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'concierge' } }, destination);
}
