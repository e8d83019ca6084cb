import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { GatewayCloseCodes, GatewayDispatchEvents, GatewayIntentBits, GatewayOpcodes } from 'discord-api-types/v10';
import { sessionId as newSessionId } from './ids.ts';
import type { DispatchEvent } from './state.ts';

/**
 * The gateway, JSON encoding, no compression (discord.js without zlib-sync
 * asks for none): HELLO → IDENTIFY → READY + GUILD_CREATE; heartbeats;
 * RESUME with replay of what the session missed; REQUEST_GUILD_MEMBERS →
 * GUILD_MEMBERS_CHUNK. Sessions outlive their socket, so a client that
 * reconnects with RESUME gets the dispatches sent while it was away.
 */

export interface GatewayWorld {
  token: string;
  privilegedIntentsEnabled: () => boolean;
  heartbeatIntervalMs: number;
  resumeUrl: string;
  ready(sessionId: string, shard: [number, number]): unknown;
  guildCreate(intents: number, largeThreshold: number): { id: string } & Record<string, unknown>;
  requestMembers(d: { guild_id?: string; query?: string; limit?: number; user_ids?: string | string[] }): { members: unknown[]; notFound: string[] };
}

export interface GatewayLogEntry {
  kind: 'connect' | 'identify' | 'resume' | 'resumed' | 'invalid-session' | 'close' | 'request-members';
  at: Date;
  sessionId?: string;
  /** close: the code; identify: the intents. */
  code?: number;
  detail?: string;
}

interface Session {
  id: string;
  intents: number;
  seq: number;
  backlog: { op: 0; t: string; s: number; d: unknown }[];
  socket: WebSocket | null;
}

const PRIVILEGED = GatewayIntentBits.GuildMembers | GatewayIntentBits.GuildPresences | GatewayIntentBits.MessageContent;
const BACKLOG = 1_000;

export function createGateway(world: GatewayWorld) {
  const wss = new WebSocketServer({ noServer: true });
  const sessions = new Map<string, Session>();
  const log: GatewayLogEntry[] = [];

  const closedByUs = new WeakSet<WebSocket>();

  /** Close from our side, logged at once (the client may act on it before the close handshake ends). */
  function closeWith(ws: WebSocket, code: number, reason: string, sessionId?: string): void {
    if (closedByUs.has(ws)) return;
    closedByUs.add(ws);
    log.push({ kind: 'close', at: new Date(), code, detail: `by the stand-in: ${reason}`, ...(sessionId ? { sessionId } : {}) });
    if (code === 1006) ws.terminate();
    else ws.close(code, reason);
  }

  function send(ws: WebSocket, payload: unknown): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(payload));
  }

  function dispatchTo(session: Session, t: string, d: unknown): void {
    session.seq += 1;
    const frame = { op: 0 as const, t, s: session.seq, d };
    session.backlog.push(frame);
    if (session.backlog.length > BACKLOG) session.backlog.shift();
    if (session.socket) send(session.socket, frame);
  }

  function identify(ws: WebSocket, d: { token?: string; intents?: number; shard?: [number, number]; large_threshold?: number }): Session | null {
    if (d.token !== world.token && d.token !== `Bot ${world.token}`) {
      closeWith(ws, GatewayCloseCodes.AuthenticationFailed, 'Authentication failed.');
      return null;
    }
    const intents = Number(d.intents ?? 0);
    log.push({ kind: 'identify', at: new Date(), code: intents });
    if ((intents & PRIVILEGED) !== 0 && !world.privilegedIntentsEnabled()) {
      closeWith(ws, GatewayCloseCodes.DisallowedIntents, 'Disallowed intent(s).');
      return null;
    }
    const session: Session = { id: newSessionId(), intents, seq: 0, backlog: [], socket: ws };
    sessions.set(session.id, session);
    dispatchTo(session, GatewayDispatchEvents.Ready, world.ready(session.id, d.shard ?? [0, 1]));
    dispatchTo(session, GatewayDispatchEvents.GuildCreate, world.guildCreate(intents, d.large_threshold ?? 50));
    return session;
  }

  function resume(ws: WebSocket, d: { token?: string; session_id?: string; seq?: number }): Session | null {
    const session = sessions.get(d.session_id ?? '');
    log.push({ kind: 'resume', at: new Date(), sessionId: d.session_id ?? '' });
    if (!session || d.token !== world.token || (d.seq ?? 0) > session.seq || (session.backlog[0]?.s ?? 1) > (d.seq ?? 0) + 1) {
      log.push({ kind: 'invalid-session', at: new Date(), sessionId: d.session_id ?? '' });
      send(ws, { op: GatewayOpcodes.InvalidSession, d: false, s: null, t: null });
      return null;
    }
    if (session.socket && session.socket !== ws) closeWith(session.socket, GatewayCloseCodes.SessionTimedOut, 'Session resumed elsewhere', session.id);
    session.socket = ws;
    for (const frame of session.backlog) if (frame.s > (d.seq ?? 0)) send(ws, frame);
    dispatchTo(session, GatewayDispatchEvents.Resumed, {});
    log.push({ kind: 'resumed', at: new Date(), sessionId: session.id });
    return session;
  }

  function onConnection(ws: WebSocket, req: IncomingMessage): void {
    const params = new URL(req.url ?? '/', 'ws://x').searchParams;
    let session: Session | null = null;
    log.push({ kind: 'connect', at: new Date(), detail: req.url ?? '' });
    if (params.get('v') !== null && params.get('v') !== '10') {
      closeWith(ws, GatewayCloseCodes.InvalidAPIVersion, 'Invalid API version.');
      return;
    }
    send(ws, { op: GatewayOpcodes.Hello, d: { heartbeat_interval: world.heartbeatIntervalMs }, s: null, t: null });

    ws.on('message', (raw: RawData) => {
      try {
        onMessage(raw);
      } catch (err) {
        // A bug in the stand-in: make it visible in the log and to the client, not an uncaught exception.
        closeWith(ws, GatewayCloseCodes.UnknownError, `stand-in bug: ${String(err)}`.slice(0, 120)); // a close reason holds 123 bytes
      }
    });

    function onMessage(raw: RawData): void {
      let msg: { op?: number; d?: unknown };
      try {
        msg = JSON.parse(raw.toString()) as { op?: number; d?: unknown };
      } catch {
        closeWith(ws, GatewayCloseCodes.DecodeError, 'Error while decoding payload.');
        return;
      }
      switch (msg.op) {
        case GatewayOpcodes.Heartbeat:
          send(ws, { op: GatewayOpcodes.HeartbeatAck, d: null, s: null, t: null });
          return;
        case GatewayOpcodes.Identify:
          if (session) return closeWith(ws, GatewayCloseCodes.AlreadyAuthenticated, 'Already authenticated.');
          session = identify(ws, (msg.d ?? {}) as Parameters<typeof identify>[1]);
          return;
        case GatewayOpcodes.Resume:
          if (session) return closeWith(ws, GatewayCloseCodes.AlreadyAuthenticated, 'Already authenticated.');
          session = resume(ws, (msg.d ?? {}) as Parameters<typeof resume>[1]);
          return;
        case GatewayOpcodes.RequestGuildMembers: {
          if (!session) return closeWith(ws, GatewayCloseCodes.NotAuthenticated, 'Not authenticated.');
          const d = (msg.d ?? {}) as Parameters<GatewayWorld['requestMembers']>[0] & { nonce?: string };
          log.push({ kind: 'request-members', at: new Date(), sessionId: session.id, detail: JSON.stringify(d) });
          const { members, notFound } = world.requestMembers(d);
          const count = Math.max(1, Math.ceil(members.length / 1000));
          for (let i = 0; i < count; i += 1) {
            dispatchTo(session, GatewayDispatchEvents.GuildMembersChunk, {
              guild_id: d.guild_id,
              members: members.slice(i * 1000, (i + 1) * 1000),
              chunk_index: i,
              chunk_count: count,
              ...(i === 0 && d.user_ids !== undefined ? { not_found: notFound } : {}),
              ...(d.nonce !== undefined ? { nonce: d.nonce } : {}),
            });
          }
          return;
        }
        case GatewayOpcodes.PresenceUpdate:
        case GatewayOpcodes.VoiceStateUpdate:
          if (!session) closeWith(ws, GatewayCloseCodes.NotAuthenticated, 'Not authenticated.');
          return;
        default:
          closeWith(ws, GatewayCloseCodes.UnknownOpcode, 'Unknown opcode.');
      }
    }

    ws.on('close', (code: number) => {
      if (!closedByUs.has(ws)) log.push({ kind: 'close', at: new Date(), code, detail: 'by the client', ...(session ? { sessionId: session.id } : {}) });
      if (!session || session.socket !== ws) return;
      session.socket = null;
      // Discord invalidates a session the client closes with 1000 or 1001.
      if (code === 1000 || code === 1001) sessions.delete(session.id);
    });
  }
  wss.on('connection', onConnection);

  return {
    /** For the HTTP server's `upgrade` event; only /gateway and /gateway/resume are WebSocket paths. */
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      const path = new URL(req.url ?? '/', 'ws://x').pathname.replace(/\/+$/, '');
      if (path !== '/gateway' && path !== '/gateway/resume') {
        socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    },

    /** Send an event to every session with the intent it needs (kept for replay while disconnected). */
    dispatch(e: DispatchEvent): void {
      for (const s of sessions.values()) if (e.intent === null || (s.intents & e.intent) !== 0) dispatchTo(s, e.t, e.d);
    },

    /** Close every socket (1006: drop TCP without a close frame). Sessions stay resumable unless told. */
    close(code: number, o: { resumable?: boolean } = {}): void {
      for (const s of sessions.values()) {
        const ws = s.socket;
        if (ws) closeWith(ws, code, 'closeGateway()', s.id);
        if (o.resumable === false) sessions.delete(s.id);
      }
    },

    /** op 7: Discord asks clients to reconnect and resume. */
    requestReconnect(): void {
      for (const s of sessions.values()) if (s.socket) send(s.socket, { op: GatewayOpcodes.Reconnect, d: null, s: null, t: null });
    },

    /** op 9: the session is gone (d=false) and the client must identify again. */
    invalidateSessions(): void {
      for (const s of [...sessions.values()]) {
        if (s.socket) send(s.socket, { op: GatewayOpcodes.InvalidSession, d: false, s: null, t: null });
        sessions.delete(s.id);
      }
    },

    /** Sessions with an open socket. */
    connected: (): number => [...sessions.values()].filter((s) => s.socket?.readyState === WebSocket.OPEN).length,
    log: log as readonly GatewayLogEntry[],
    shutdown(): Promise<void> {
      for (const ws of wss.clients) ws.terminate();
      sessions.clear();
      return new Promise((resolve) => wss.close(() => resolve()));
    },
  };
}

export type Gateway = ReturnType<typeof createGateway>;
