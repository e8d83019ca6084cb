/**
 * The webhook route's port for deliveries that fail verification
 * (app/security-audit.ts implements it). Declared here, below both http/ and
 * app/, so the use case does not import the route.
 */
export interface SecurityAudit {
  /** A delivery failed verification: log, and audit (throttled so a flood cannot fill the disk). */
  rejected(reason: string, detail: string, meta: { ip: string; transmissionId: string | null }): void;
}
