import { Events, type Client, type GuildMember } from 'discord.js';
import { memberJoined } from '../../app/member-joined.ts';
import type { Logger } from '../../log.ts';
import type { Store } from '../../store/db.ts';

/** guildMemberAdd: a (re)joining member gets their entitled roles back through a role sync. */
export function registerGuildMemberAdd(client: Client, deps: { guildId: string; store: Store; clock: () => number; log: Logger }): void {
  client.on(Events.GuildMemberAdd, (member: GuildMember) => {
    if (member.guild.id !== deps.guildId || member.user.bot) return;
    const log = deps.log.child({ event: 'guildMemberAdd', guildId: member.guild.id, userId: member.id });
    try {
      const tier = memberJoined(deps.store, member.id, deps.clock());
      if (tier !== null) log.info({ tier }, 'member joined; role sync enqueued');
    } catch (err) {
      log.error({ err }, 'handling a member join failed');
    }
  });
}
