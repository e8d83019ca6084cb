import { once } from 'node:events';
import { ButtonStyle, ComponentType } from 'discord-api-types/v10';
import { Client, Events, GatewayIntentBits, Partials } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buttonId, MemberFacingError, type ButtonHandler, type SlashCommand } from '../../src/discord/commands/types.ts';
import { registerInteractions } from '../../src/discord/interactions.ts';
import { ConciergeError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { createDiscordStandIn, snowflake, type DiscordStandIn } from '../../src/stand-ins/discord/server.ts';

/**
 * The interaction rules, through the REAL discord.js client and the Discord
 * stand-in: ephemeral replies, defer before slow work (answered in time),
 * cooldowns where a double click shares one run, errors shown with a
 * reference id, buttons only for their owner and refused once expired.
 */

let discord: DiscordStandIn;
let client: Client;
let offset = 0;
const clock = () => Date.now() + offset;
const runs: Record<string, number> = { slow: 0, echo: 0, broken: 0 };
let alice: string;
let bob: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const commands: SlashCommand[] = [
  {
    name: 'slow',
    defer: true,
    cooldownMs: 10_000,
    run: async (i) => {
      runs['slow'] = (runs['slow'] ?? 0) + 1;
      await sleep(3_500); // longer than Discord's 3 s: only a defer can answer in time
      return { content: `done ${i.options.getString('what') ?? ''}` };
    },
  },
  {
    name: 'echo',
    defer: false,
    run: async (_i, inv) => {
      runs['echo'] = (runs['echo'] ?? 0) + 1;
      return {
        content: `hello <@${inv.userId}>`,
        components: [{ type: ComponentType.ActionRow, components: [{ type: ComponentType.Button, style: ButtonStyle.Primary, label: 'Go', custom_id: buttonId('go', inv.userId, inv.now, 'x') }] }],
      };
    },
  },
  {
    name: 'broken',
    defer: true,
    run: async () => {
      runs['broken'] = (runs['broken'] ?? 0) + 1;
      throw new Error('database exploded: secret detail');
    },
  },
  { name: 'paypal-down', defer: true, run: async () => Promise.reject(new ConciergeError('paypal_http_503', 'PayPal POST /v1/billing/subscriptions → 503', { retry: true })) },
  { name: 'refuse', defer: false, run: async () => Promise.reject(new MemberFacingError('Titan has no plan called "weekly"; choose Monthly or Yearly.')) },
];

const clicked: string[][] = [];
const buttons: ButtonHandler[] = [
  {
    prefix: 'go',
    ttlMs: 60_000,
    defer: false,
    run: async (_i, inv, args) => {
      clicked.push([inv.userId, ...args]);
      return { content: 'Went.' };
    },
    expired: () => ({ content: 'This button expired; run /echo again.' }),
  },
];

beforeAll(async () => {
  discord = await createDiscordStandIn();
  alice = snowflake();
  bob = snowflake();
  discord.addMember(alice, { username: 'alice' });
  discord.addMember(bob, { username: 'bob' });
  client = new Client({ intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMembers], partials: [Partials.GuildMember], rest: { api: discord.apiUrl } });
  registerInteractions(client, { guildId: discord.guildId, commands, buttons, clock, log: createLogger('silent') });
  const ready = once(client, Events.ClientReady);
  await client.login(discord.token);
  await ready;
});
afterAll(async () => {
  await client.destroy();
  await discord.close();
});

describe('interaction router', () => {
  it('defers a slow command at once (ephemeral) and fills the reply in later', async () => {
    const h = discord.interact({ type: 'command', name: 'slow', userId: alice, options: { what: 'a' } });
    const first = await h.response();
    expect(first).toMatchObject({ type: 5, accepted: true, ephemeral: true });
    // Within Discord's 3 s deadline with room to spare (the slow command itself takes far longer); not a speed claim.
    expect(first.elapsedMs).toBeLessThan(2_500);
    const [edit] = await h.waitForEdits(1, 8_000);
    expect(edit?.body?.content).toBe('done a');
    expect(h.original()?.flags).toBe(64);
  });

  it('a double click inside the cooldown runs once and both get the answer; another request is asked to wait', async () => {
    const before = runs['slow'] ?? 0;
    const one = discord.interact({ type: 'command', name: 'slow', userId: bob, options: { what: 'b' } });
    const two = discord.interact({ type: 'command', name: 'slow', userId: bob, options: { what: 'b' } });
    const [e1, e2] = await Promise.all([one.waitForEdits(1, 8_000), two.waitForEdits(1, 8_000)]);
    expect(e1[0]?.body?.content).toBe('done b');
    expect(e2[0]?.body?.content).toBe('done b');
    expect((runs['slow'] ?? 0) - before).toBe(1);

    const other = discord.interact({ type: 'command', name: 'slow', userId: bob, options: { what: 'c' } });
    const answer = await other.response();
    expect(answer).toMatchObject({ type: 4, ephemeral: true });
    expect(answer.data?.content).toMatch(/please wait \d+ s before using \/slow again/i);
    expect((runs['slow'] ?? 0) - before).toBe(1);
  });

  it('a failure shows a short message with a reference id and no internals', async () => {
    const h = discord.interact({ type: 'command', name: 'broken', userId: alice });
    const [edit] = await h.waitForEdits(1);
    const text = edit?.body?.content ?? '';
    expect(text).toMatch(/nothing was changed/i);
    expect(text).toMatch(/reference `[0-9a-f]{8}`/);
    expect(text).not.toMatch(/database|secret/);
  });

  it('PayPal being down says so, with a reference id', async () => {
    const h = discord.interact({ type: 'command', name: 'paypal-down', userId: alice });
    const [edit] = await h.waitForEdits(1);
    expect(edit?.body?.content).toMatch(/PayPal is not answering right now, so nothing was changed.*reference `[0-9a-f]{8}`/);
  });

  it('a problem the member can fix is shown as it is', async () => {
    const h = discord.interact({ type: 'command', name: 'refuse', userId: alice });
    expect((await h.response()).data?.content).toBe('Titan has no plan called "weekly"; choose Monthly or Yearly.');
  });

  it('a button works for its owner only, and an expired one is refused without running', async () => {
    const h = discord.interact({ type: 'command', name: 'echo', userId: alice });
    const reply = await h.response();
    const customId = String((reply.data?.components?.[0] as { components: { custom_id: string }[] } | undefined)?.components[0]?.custom_id);
    expect(customId).toMatch(new RegExp(`^go:${alice}:\\d+:x$`));

    // The same custom id on a message bob can see (a channel message): the router refuses bob.
    const channel = await client.channels.fetch(discord.generalChannelId);
    if (!channel?.isSendable()) throw new Error('general channel not sendable');
    await channel.send({ content: 'shared', components: [{ type: ComponentType.ActionRow, components: [{ type: ComponentType.Button, style: ButtonStyle.Primary, label: 'Go', customId }] }] });
    const stranger = discord.interact({ type: 'button', customId, userId: bob });
    const refused = await stranger.response();
    expect(refused).toMatchObject({ type: 4, ephemeral: true });
    expect(refused.data?.content).toMatch(/belongs to someone else/);
    expect(clicked).toEqual([]);

    const click = discord.interact({ type: 'button', customId, userId: alice, messageId: h.original()?.id ?? '' });
    const updated = await click.response();
    expect(updated.type).toBe(7);
    expect(updated.data?.content).toBe('Went.');
    expect(updated.data?.components).toEqual([]);
    expect(clicked).toEqual([[alice, 'x']]);

    offset += 120_000; // past the button's 60 s
    const late = discord.interact({ type: 'button', customId, userId: alice, messageId: h.original()?.id ?? '' });
    expect((await late.response()).data?.content).toBe('This button expired; run /echo again.');
    expect(clicked).toHaveLength(1);
    offset = 0;
  });
});
