import { ChannelType, DiscordAPIError, PermissionFlagsBits, REST, Routes } from 'discord.js';
import { ApplicationFlags, type APIApplication, type APIGuild, type APIGuildMember, type APIOverwrite, type APIRole, type APIUser } from 'discord-api-types/v10';

/**
 * `concierge doctor`'s Discord checks over REST (the CLI opens no gateway
 * session): the token, the Server Members intent, the guild, the audit
 * channel, and that the bot can manage every tier role (Manage Roles, its
 * highest role above each). The service checks the same from its gateway
 * cache at start (startup-check.ts); this says it before a deploy.
 */

export interface DiscordSetup {
  apiUrl: string;
  token: string;
  guildId: string;
  auditChannelId: string;
  tierRoles: readonly { id: string; name: string }[];
}

export interface SetupReport {
  /** What was found, one line each. */
  found: string[];
  /** What an admin must fix, naming the variable or the setting. */
  problems: string[];
}

const INTENTS = ApplicationFlags.GatewayGuildMembers | ApplicationFlags.GatewayGuildMembersLimited;
const AUDIT_PERMISSIONS = [
  ['View Channel', PermissionFlagsBits.ViewChannel],
  ['Send Messages', PermissionFlagsBits.SendMessages],
  ['Embed Links', PermissionFlagsBits.EmbedLinks],
] as const;

export async function reportDiscordSetup(s: DiscordSetup): Promise<SetupReport> {
  const r: SetupReport = { found: [], problems: [] };
  try {
    await checkSetup(r, s);
  } catch (err) {
    // A later call failing (Discord down half-way, a 5xx): the checks so far stand, the rest is unknown.
    r.problems.push(`Discord: the checks stopped early: ${message(err)}`);
  }
  return r;
}

async function checkSetup(r: SetupReport, s: DiscordSetup): Promise<void> {
  const rest = new REST({ api: s.apiUrl, timeout: 10_000, retries: 1 }).setToken(s.token);
  let bot: APIUser;
  try {
    bot = (await rest.get(Routes.user('@me'))) as APIUser;
  } catch (err) {
    r.problems.push(status(err) === 401 ? 'DISCORD_TOKEN: Discord rejected the token (401); copy it again from the developer portal (Bot → Reset Token)' : `DISCORD_API_URL ${s.apiUrl}: cannot reach Discord: ${message(err)}`);
    return;
  }
  r.found.push(`bot ${bot.username} (${bot.id})`);
  const app = (await rest.get(Routes.currentApplication())) as APIApplication;
  if (((app.flags ?? 0) & INTENTS) === 0) r.problems.push('Discord application: enable "Server Members Intent" under Bot → Privileged Gateway Intents in the developer portal');
  else r.found.push('Server Members intent enabled');

  let guild: APIGuild;
  try {
    guild = (await rest.get(Routes.guild(s.guildId))) as APIGuild;
  } catch (err) {
    r.problems.push(`DISCORD_GUILD_ID ${s.guildId}: the bot is not in this server (${status(err) ?? message(err)}): invite it with the bot and applications.commands scopes, or fix the id`);
    return;
  }
  r.found.push(`server "${guild.name}"`);
  const me = (await rest.get(Routes.guildMember(s.guildId, bot.id))) as APIGuildMember;
  const roles = new Map(guild.roles.map((role) => [role.id, role]));
  const mine = [roles.get(s.guildId), ...me.roles.map((id) => roles.get(id))].filter((x): x is APIRole => x !== undefined);
  const base = mine.reduce((p, role) => p | BigInt(role.permissions), 0n);
  checkRoleOrder(r, s.tierRoles, roles, mine, base);
  await checkAuditChannel(r, rest, s, { base, roleIds: new Set(me.roles), userId: bot.id });
}

/** Discord's hierarchy: higher position wins; on equal positions the older role (lower id) does. */
function isAbove(a: APIRole, b: APIRole): boolean {
  return a.position !== b.position ? a.position > b.position : BigInt(a.id) < BigInt(b.id);
}

function checkRoleOrder(r: SetupReport, tierRoles: DiscordSetup['tierRoles'], roles: Map<string, APIRole>, mine: APIRole[], base: bigint): void {
  const admin = (base & PermissionFlagsBits.Administrator) !== 0n;
  if (!admin && (base & PermissionFlagsBits.ManageRoles) === 0n) r.problems.push('Discord: give Concierge the Manage Roles permission in Server Settings → Roles');
  const top = mine.reduce<APIRole | undefined>((best, role) => (best === undefined || isAbove(role, best) ? role : best), undefined);
  const before = r.problems.length;
  const below: string[] = [];
  for (const t of tierRoles) {
    const role = roles.get(t.id);
    if (role === undefined) r.problems.push(`tiers file: role ${t.name} (${t.id}) does not exist in the server: create it or fix role_id`);
    else if (role.managed) r.problems.push(`tiers file: role ${role.name} (${t.id}) belongs to an integration and cannot be given to members: use another role`);
    else if (top === undefined || !isAbove(top, role)) below.push(role.name);
  }
  if (below.length > 0) r.problems.push(`Discord: drag role ${top?.name ?? 'Concierge'} above ${below.join(', ')} in Server Settings → Roles`);
  if (r.problems.length === before) r.found.push(`role ${top?.name ?? '?'} above every tier role (${tierRoles.map((t) => roles.get(t.id)?.name ?? t.name).join(', ')})`);
}

async function checkAuditChannel(r: SetupReport, rest: REST, s: DiscordSetup, bot: { base: bigint; roleIds: Set<string>; userId: string }): Promise<void> {
  const name = `DISCORD_AUDIT_CHANNEL_ID ${s.auditChannelId}`;
  let channel: { type: number; name?: string | null; guild_id?: string; permission_overwrites?: APIOverwrite[] };
  try {
    channel = (await rest.get(Routes.channel(s.auditChannelId))) as typeof channel;
  } catch (err) {
    const code = status(err);
    r.problems.push(
      code === 403
        ? `${name}: the bot cannot see this channel; give its role View Channel, Send Messages and Embed Links there`
        : `${name}: no such channel (${code ?? message(err)}); copy the id of the audit channel again`,
    );
    return;
  }
  if (channel.guild_id !== s.guildId) return void r.problems.push(`${name}: this channel is not in server ${s.guildId}`);
  if (channel.type !== ChannelType.GuildText && channel.type !== ChannelType.GuildAnnouncement) return void r.problems.push(`${name}: #${channel.name ?? '?'} is not a text channel`);
  const perms = applyOverwrites(bot.base, channel.permission_overwrites ?? [], s.guildId, bot.roleIds, bot.userId);
  const missing = AUDIT_PERMISSIONS.filter(([, bit]) => (perms & bit) === 0n).map(([label]) => label);
  if (missing.length > 0) r.problems.push(`${name}: the bot lacks ${missing.join(', ')} in #${channel.name ?? '?'}; allow them for its role there`);
  else r.found.push(`audit channel #${channel.name ?? '?'}`);
}

/** Discord's channel permission order: @everyone's overwrite, then the roles' (denies, then allows), then the member's own. */
function applyOverwrites(base: bigint, overwrites: readonly APIOverwrite[], guildId: string, roleIds: Set<string>, userId: string): bigint {
  if ((base & PermissionFlagsBits.Administrator) !== 0n) return ~0n;
  let p = base;
  const apply = (o: { allow: string; deny: string } | undefined) => {
    if (o !== undefined) p = (p & ~BigInt(o.deny)) | BigInt(o.allow);
  };
  apply(overwrites.find((o) => o.id === guildId));
  const roleOverwrites = overwrites.filter((o) => o.type === 0 && roleIds.has(o.id));
  apply({ deny: String(roleOverwrites.reduce((d, o) => d | BigInt(o.deny), 0n)), allow: String(roleOverwrites.reduce((a, o) => a | BigInt(o.allow), 0n)) });
  apply(overwrites.find((o) => o.type === 1 && o.id === userId));
  return p;
}

function status(err: unknown): number | null {
  return err instanceof DiscordAPIError ? err.status : null;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
