import { Events, type Client, type GuildMember, type PartialGuildMember } from 'discord.js';
import { handleManualRoleEdit, reviewRoleChange } from '../../app/manual-role-edit.ts';
import type { Logger } from '../../log.ts';
import type { Store } from '../../store/db.ts';
import type { TiersSource } from '../../tiers.ts';
import { lastRoleEditor, type MemberRoles } from '../roles.ts';

export interface MemberUpdateDeps {
  guildId: string;
  botUserId: () => string | null;
  store: Store;
  tiers: TiersSource;
  roles: MemberRoles;
  clock: () => number;
  log: Logger;
}

/**
 * guildMemberUpdate: a manual edit of managed roles is reverted or reported
 * (policy `on_manual_role_edit`). Concierge's own changes echo back here too;
 * they are recognised (recent own changes, then the audit log's executor) and
 * ignored.
 */
export function registerGuildMemberUpdate(client: Client, deps: MemberUpdateDeps): void {
  client.on(Events.GuildMemberUpdate, (oldMember: GuildMember | PartialGuildMember, newMember: GuildMember) => {
    if (newMember.guild.id !== deps.guildId || newMember.user.bot) return;
    const guild = newMember.guild;
    const userId = newMember.id;
    const log = deps.log.child({ event: 'guildMemberUpdate', guildId: guild.id, userId });
    const strip = (ids: Iterable<string>) => [...ids].filter((id) => id !== guild.id);
    const change = { before: oldMember.partial ? null : strip(oldMember.roles.cache.keys()), after: strip(newMember.roles.cache.keys()) };
    void (async () => {
      const catalog = deps.tiers.current();
      const madeByUs = (roleId: string, op: 'add' | 'remove') => deps.roles.madeByUs(userId, roleId, op);
      const edit = reviewRoleChange(deps.store.db, catalog, userId, change, madeByUs);
      if (edit === null) return;
      const who = await lastRoleEditor(guild, userId);
      if (who !== null && who === deps.botUserId()) return;
      const policy = handleManualRoleEdit(deps.store, catalog, userId, edit, who, deps.clock());
      log.warn({ added: edit.added, removed: edit.removed, by: who, policy }, 'manual edit of managed roles');
    })().catch((err: unknown) => log.error({ err }, 'handling a member update failed'));
  });
}
