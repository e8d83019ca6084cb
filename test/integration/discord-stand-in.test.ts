import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ApplicationCommandOptionType,
  ButtonStyle,
  Client,
  ComponentType,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  HTTPError,
  MessageFlags,
  Partials,
  PermissionFlagsBits,
  Routes,
  type GuildMember,
  type Interaction,
  type PartialGuildMember,
  type RESTPostAPIApplicationCommandsJSONBody,
  type TextChannel,
} from 'discord.js';
import { createDiscordStandIn, snowflake, type DiscordStandIn, type DiscordStandInOptions } from '../../src/stand-ins/discord/server.ts';

// The real discord.js client against the stand-in: nothing is mocked.

const running: { standIn: DiscordStandIn; client: Client }[] = [];

function newClient(standIn: DiscordStandIn): Client {
  return new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMembers],
    partials: [Partials.GuildMember],
    rest: { api: standIn.apiUrl },
  });
}

async function start(opts: DiscordStandInOptions = {}) {
  const standIn = await createDiscordStandIn({ roles: [{ name: 'Gold', position: 2 }, { name: 'Silver', position: 1 }], ...opts });
  const client = newClient(standIn);
  running.push({ standIn, client });
  const ready = once(client, Events.ClientReady);
  await client.login(standIn.token);
  await ready;
  const guild = client.guilds.cache.get(standIn.guildId);
  if (!guild) throw new Error('guild not cached');
  return { standIn, client, guild };
}

afterEach(async () => {
  for (const { standIn, client } of running.splice(0)) {
    await client.destroy();
    await standIn.close();
  }
});

const COMMANDS = [
  { name: 'status', description: 'Your membership' },
  {
    name: 'admin',
    description: 'Staff tools',
    default_member_permissions: '0',
    options: [
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'grant',
        description: 'Grant a tier',
        options: [
          { type: ApplicationCommandOptionType.User, name: 'member', description: 'Who', required: true },
          { type: ApplicationCommandOptionType.String, name: 'tier', description: 'Which tier', required: true, choices: [{ name: 'Gold', value: 'gold' }] },
          { type: ApplicationCommandOptionType.String, name: 'duration', description: 'How long' },
        ],
      },
    ],
  },
] as const satisfies RESTPostAPIApplicationCommandsJSONBody[];

describe('Discord stand-in with the real discord.js client', () => {
  it('logs in: READY, GUILD_CREATE with roles and channels, members fetched over REST and the gateway', async () => {
    const member = snowflake();
    const { standIn, client, guild } = await start({ members: [{ id: member, roles: ['Gold'], username: 'alice' }] });

    expect(client.user?.id).toBe(standIn.botUserId);
    expect(client.application?.id).toBe(standIn.applicationId);
    expect(Buffer.from(standIn.token.split('.')[0] ?? '', 'base64').toString()).toBe(standIn.botUserId);
    expect(guild.roles.cache.map((r) => r.name).sort()).toEqual(['@everyone', 'Concierge', 'Gold', 'Silver']);
    expect(guild.channels.cache.get(standIn.auditChannelId)?.name).toBe('concierge-audit');
    // Without the presences intent Discord lists only the bot in GUILD_CREATE.
    expect([...guild.members.cache.keys()]).toEqual([standIn.botUserId]);
    expect(guild.members.me?.permissions.has(PermissionFlagsBits.ManageRoles)).toBe(true);

    const fetched = await guild.members.fetch(member);
    expect(fetched.user.username).toBe('alice');
    expect(fetched.roles.cache.has(standIn.roleId('Gold'))).toBe(true);
    expect(standIn.callsTo('GET', new RegExp(`^/guilds/${standIn.guildId}/members/${member}$`))).toBe(1);

    const err = await guild.members.fetch({ user: snowflake(), force: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscordAPIError);
    expect((err as DiscordAPIError).code).toBe(10007);

    const all = await guild.members.fetch(); // op 8 REQUEST_GUILD_MEMBERS → GUILD_MEMBERS_CHUNK
    expect([...all.keys()].sort()).toEqual(standIn.memberIds().sort());
    expect(standIn.gatewayLog.some((e) => e.kind === 'request-members')).toBe(true);
  });

  it('adds, removes and sets roles within the hierarchy; refuses a role above the bot or without MANAGE_ROLES (50013)', async () => {
    const user = snowflake();
    const { standIn, guild } = await start({ members: [{ id: user }], roles: [{ name: 'Gold', position: 2 }, { name: 'Staff', position: 9 }], botRolePosition: 5 });
    const gold = standIn.roleId('Gold');
    const member = await guild.members.fetch(user);

    await member.roles.add(gold, 'subscription ACTIVE');
    expect(standIn.callsTo('PUT', new RegExp(`/members/${user}/roles/${gold}$`))).toBe(1);
    expect(standIn.member(user)).toEqual([gold]);
    expect(standIn.auditLog().at(-1)).toMatchObject({ user_id: standIn.botUserId, target_id: user, reason: 'subscription ACTIVE' });

    const above = await member.roles.add(standIn.roleId('Staff')).catch((e: unknown) => e);
    expect(above).toBeInstanceOf(DiscordAPIError);
    expect((above as DiscordAPIError).code).toBe(50013);
    expect((above as DiscordAPIError).status).toBe(403);
    expect(standIn.member(user)).toEqual([gold]);

    await member.roles.set([]);
    expect(standIn.callsTo('PATCH', new RegExp(`/members/${user}$`))).toBe(1);
    expect(standIn.member(user)).toEqual([]);

    standIn.setBotPermissions(0n);
    const noPerm = await member.roles.add(gold).catch((e: unknown) => e);
    expect((noPerm as DiscordAPIError).code).toBe(50013);
  });

  it('answers 204 without a Content-Type and rate-limit headers on every response', async () => {
    const user = snowflake();
    const { standIn } = await start({ members: [{ id: user }] });
    const res = await fetch(`${standIn.apiUrl}/v10/guilds/${standIn.guildId}/members/${user}/roles/${standIn.roleId('Gold')}`, {
      method: 'PUT',
      headers: { authorization: `Bot ${standIn.token}` },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('content-type')).toBeNull();
    expect(res.headers.get('x-ratelimit-limit')).toBe('10');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('9');
    expect(res.headers.get('x-ratelimit-bucket')).toMatch(/^[0-9a-f]{32}$/);
    expect(Number(res.headers.get('x-ratelimit-reset-after'))).toBeGreaterThan(0);
    const unauth = await fetch(`${standIn.apiUrl}/v10/users/@me`);
    expect(unauth.status).toBe(401);

    // A client that ignores the headers: the 11th edit in the window is refused.
    const put = () => fetch(`${standIn.apiUrl}/v10/guilds/${standIn.guildId}/members/${user}/roles/${standIn.roleId('Silver')}`, { method: 'PUT', headers: { authorization: `Bot ${standIn.token}` } });
    const statuses = [];
    for (let i = 0; i < 10; i += 1) statuses.push((await put()).status);
    const refused = await put();
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-ratelimit-scope')).toBe('user');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toMatchObject({ message: 'You are being rate limited.', global: false, retry_after: expect.any(Number) });
    expect(standIn.rateLimitHits().bucket).toBe(2);
  });

  it('40 role PUTs at 10 per 2 s: discord.js follows the headers and never sees a 429', async () => {
    const users = Array.from({ length: 40 }, () => snowflake());
    const { standIn, guild } = await start({ members: users.map((id) => ({ id })) });
    const gold = standIn.roleId('Gold');
    const t0 = Date.now();
    await Promise.all(users.map((id) => guild.members.addRole({ user: id, role: gold })));
    const elapsed = Date.now() - t0;
    expect(standIn.callsTo('PUT', /\/roles\//)).toBe(40);
    expect(standIn.rateLimitHits()).toEqual({ bucket: 0, global: 0 });
    expect(elapsed).toBeGreaterThanOrEqual(6_000); // four windows of 10
    expect(users.every((id) => standIn.member(id)?.includes(gold))).toBe(true);
  });

  it('discord.js retries an injected 429 after Retry-After, and a 5xx by itself (3 retries, no backoff)', async () => {
    const user = snowflake();
    const { standIn, guild } = await start({ members: [{ id: user }] });
    const gold = standIn.roleId('Gold');
    const member = await guild.members.fetch(user);

    standIn.fault({ method: 'PUT', path: /\/roles\//, status: 429, retryAfter: 1, times: 1 });
    const t0 = Date.now();
    await member.roles.add(gold);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(standIn.requests.filter((r) => r.method === 'PUT').map((r) => r.status)).toEqual([429, 204]);

    standIn.clearRequests();
    standIn.fault({ method: 'DELETE', path: /\/roles\//, status: 500, times: 2 });
    await member.roles.remove(gold);
    expect(standIn.requests.filter((r) => r.method === 'DELETE').map((r) => r.status)).toEqual([500, 500, 204]);

    standIn.clearRequests();
    standIn.fault({ method: 'PUT', path: /\/roles\//, status: 503, times: 10 });
    const err = await member.roles.add(gold).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HTTPError);
    expect(standIn.callsTo('PUT', /\/roles\//)).toBe(4);
  });

  it('GUILD_MEMBER_ADD and GUILD_MEMBER_UPDATE reach the listeners, uncached members included (partials)', async () => {
    const early = snowflake();
    const { standIn, client } = await start({ members: [{ id: early }] });
    const joined = once(client, Events.GuildMemberAdd) as Promise<[GuildMember]>;
    const newcomer = snowflake();
    standIn.addMember(newcomer, { username: 'bob' });
    const [added] = await joined;
    expect(added.id).toBe(newcomer);

    const updated = once(client, Events.GuildMemberUpdate) as Promise<[GuildMember | PartialGuildMember, GuildMember]>;
    standIn.setMemberRoles(early, ['Gold'], { by: standIn.ownerId });
    const [before, after] = await updated;
    expect(before.partial).toBe(true);
    expect(after.roles.cache.has(standIn.roleId('Gold'))).toBe(true);

    const left = once(client, Events.GuildMemberRemove) as Promise<[GuildMember | PartialGuildMember]>;
    standIn.removeMember(newcomer);
    expect((await left)[0].id).toBe(newcomer);
  });

  it('registers commands by bulk overwrite; a command interaction is deferred ephemerally and edited', async () => {
    const target = snowflake();
    const { standIn, client, guild } = await start({ members: [{ id: target }] });
    await guild.commands.set([...COMMANDS]);
    expect(standIn.callsTo('PUT', new RegExp(`^/applications/${standIn.applicationId}/guilds/${standIn.guildId}/commands$`))).toBe(1);
    expect(standIn.commands().map((c) => c.name)).toEqual(['status', 'admin']);
    const ids = standIn.commands().map((c) => c.id);
    await guild.commands.set([...COMMANDS]);
    expect(standIn.commands().map((c) => c.id)).toEqual(ids); // ids survive an overwrite

    const seen: { member: string | undefined; tier: string | null }[] = [];
    client.on(Events.InteractionCreate, (i: Interaction) => {
      if (!i.isChatInputCommand()) return;
      seen.push({ member: i.options.getUser('member')?.id, tier: i.options.getString('tier') });
      void (async () => {
        await i.deferReply({ flags: MessageFlags.Ephemeral });
        await i.editReply({ content: 'Granted', embeds: [{ title: 'Gold until 2026-01-01' }] });
      })();
    });
    const h = standIn.interact({ type: 'command', name: 'admin', subcommand: 'grant', userId: standIn.ownerId, options: { member: target, tier: 'gold' } });
    const first = await h.response();
    expect(first).toMatchObject({ type: 5, accepted: true, ephemeral: true });
    const [edit] = await h.waitForEdits(1);
    expect(edit?.body).toMatchObject({ content: 'Granted' });
    expect(h.original()?.flags).toBe(MessageFlags.Ephemeral);
    expect(seen).toEqual([{ member: target, tier: 'gold' }]);
    expect(standIn.messages(standIn.generalChannelId)).toEqual([]); // ephemeral: not in the channel
    expect(() => standIn.interact({ type: 'command', name: 'admin', subcommand: 'grant', userId: target, options: { member: target, tier: 'platinum' } })).toThrow(/choices/);
  });

  it('refuses a first response after 3 s (10062) and a second acknowledgement (40060)', async () => {
    const { standIn, client } = await start();
    const outcome = new Promise<unknown>((resolve) => {
      client.once(Events.InteractionCreate, (i: Interaction) => {
        if (!i.isChatInputCommand()) return;
        setTimeout(() => i.reply('too late').then(resolve, resolve), 3_100);
      });
    });
    const late = standIn.interact({ type: 'command', name: 'status', userId: standIn.ownerId });
    const err = await outcome;
    expect((err as DiscordAPIError).code).toBe(10062);
    expect(await late.response()).toMatchObject({ status: 404, accepted: false });

    const twice = new Promise<unknown>((resolve) => {
      client.once(Events.InteractionCreate, (i: Interaction) => {
        const route = Routes.interactionCallback(i.id, i.token);
        void (async () => {
          await client.rest.post(route, { body: { type: 4, data: { content: 'one' } }, auth: false });
          await client.rest.post(route, { body: { type: 4, data: { content: 'two' } }, auth: false }).then(resolve, resolve);
        })();
      });
    });
    standIn.interact({ type: 'command', name: 'status', userId: standIn.ownerId });
    expect(((await twice) as DiscordAPIError).code).toBe(40060);
    expect(standIn.messages(standIn.generalChannelId).map((m) => m.content)).toEqual(['one']);
  });

  it('posts embeds and buttons; a button click updates the message; limits and channel access are enforced', async () => {
    const user = snowflake();
    const { standIn, client, guild } = await start({ members: [{ id: user }] });
    const audit = guild.channels.cache.get(standIn.auditChannelId) as TextChannel;
    await audit.send({
      content: `<@${user}> granted Gold`,
      embeds: [{ title: 'Role granted', fields: [{ name: 'Subscription', value: 'I-ABC' }] }],
      components: [{ type: ComponentType.ActionRow, components: [{ type: ComponentType.Button, style: ButtonStyle.Primary, custom_id: 'renew', label: 'Renew' }] }],
    });
    const [posted] = standIn.messages(standIn.auditChannelId);
    expect(posted?.mentions.map((u) => u.id)).toEqual([user]);
    expect(posted?.embeds[0]?.fields?.[0]?.value).toBe('I-ABC');

    client.once(Events.InteractionCreate, (i: Interaction) => {
      if (i.isButton()) void i.update({ content: `renewed by ${i.user.id}`, components: [] });
    });
    const click = standIn.interact({ type: 'button', customId: 'renew', userId: user });
    expect((await click.response()).type).toBe(7);
    expect(standIn.messages(standIn.auditChannelId)[0]?.content).toBe(`renewed by ${user}`);

    // A button on an ephemeral reply (kept by the interaction, not the channel) can be clicked too.
    client.once(Events.InteractionCreate, (i: Interaction) => {
      if (i.isChatInputCommand()) {
        void i.reply({ content: 'Sure?', flags: MessageFlags.Ephemeral, components: [{ type: ComponentType.ActionRow, components: [{ type: ComponentType.Button, style: ButtonStyle.Danger, custom_id: 'confirm-cancel', label: 'Cancel' }] }] });
      }
    });
    await standIn.interact({ type: 'command', name: 'cancel', userId: user }).response();
    client.once(Events.InteractionCreate, (i: Interaction) => {
      if (i.isButton()) void i.update({ content: 'Cancelled', components: [] });
    });
    const confirm = standIn.interact({ type: 'button', customId: 'confirm-cancel', userId: user });
    expect(confirm.payload['message']).toMatchObject({ flags: MessageFlags.Ephemeral });
    expect((await confirm.response()).type).toBe(7);
    expect(confirm.original()?.content).toBe('Cancelled');

    const tooLong = await audit.send({ embeds: [{ title: 'x'.repeat(257) }] }).catch((e: unknown) => e);
    expect((tooLong as DiscordAPIError).code).toBe(50035);
    standIn.restrictChannel(standIn.auditChannelId, 50013);
    expect(((await audit.send('x').catch((e: unknown) => e)) as DiscordAPIError).code).toBe(50013);
    const unknownChannel = await client.rest.post(Routes.channelMessages(snowflake()), { body: { content: 'x' } }).catch((e: unknown) => e);
    expect((unknownChannel as DiscordAPIError).code).toBe(10003);
  });

  it('delivers DMs, and refuses them with 50007 when the user closed DMs', async () => {
    const open = snowflake();
    const closed = snowflake();
    const { standIn, client } = await start({ members: [{ id: open }, { id: closed }] });
    await (await client.users.fetch(open)).send('Welcome to Gold');
    expect(standIn.dms(open).map((m) => m.content)).toEqual(['Welcome to Gold']);

    standIn.closeDms(closed);
    const err = await (await client.users.fetch(closed)).send('hello').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscordAPIError);
    expect((err as DiscordAPIError).code).toBe(50007);
    expect(standIn.dms(closed)).toEqual([]);
  });

  it('resumes after the gateway closes with 4000, replays what it missed, and keeps receiving events', async () => {
    const user = snowflake();
    const { standIn, client } = await start({ members: [{ id: user }] });
    const updates: string[][] = [];
    client.on(Events.GuildMemberUpdate, (_old, m: GuildMember) => updates.push([...m.roles.cache.keys()].filter((id) => id !== standIn.guildId)));

    const resumed = once(client, Events.ShardResume);
    standIn.closeGateway(4000);
    standIn.setMemberRoles(user, ['Silver']); // while the socket is down: replayed on RESUME
    await resumed;
    standIn.setMemberRoles(user, ['Gold']);
    await expect.poll(() => updates.length).toBe(2);
    expect(updates).toEqual([[standIn.roleId('Silver')], [standIn.roleId('Gold')]]);
    expect(standIn.gatewayLog.filter((e) => e.kind === 'identify')).toHaveLength(1);
    expect(standIn.gatewayLog.some((e) => e.kind === 'resumed')).toBe(true);
  });

  it('closes IDENTIFY with 4014 when the privileged intent is not enabled, and login fails clearly', async () => {
    const standIn = await createDiscordStandIn({ privilegedIntentsEnabled: false });
    const client = newClient(standIn);
    running.push({ standIn, client });
    await expect(client.login(standIn.token)).rejects.toThrow(/disallowed intents/i);
    expect(standIn.gatewayLog.find((e) => e.kind === 'close')?.code).toBe(4014);
  });

  it('applies the global limit of 50 requests a second', async () => {
    const { standIn } = await start();
    const answers = await Promise.all(Array.from({ length: 60 }, () => fetch(`${standIn.apiUrl}/v10/users/@me`, { headers: { authorization: `Bot ${standIn.token}` } })));
    const refused = answers.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThan(0); // 10 when all 60 land in one second
    expect(refused[0]?.headers.get('x-ratelimit-global')).toBe('true');
    expect(standIn.rateLimitHits().global).toBe(refused.length);
  });
});
