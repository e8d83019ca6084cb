import type { ChatInputCommandInteraction } from 'discord.js';
import { editPublisherProfile, readPublisherProfile, type ImageProbe, type PublisherEdit } from '../../app/publisher-profile.ts';
import { publisherEmbed } from '../../core/publisher-profile.ts';
import { staffCommand } from './admin-guard.ts';
import { MemberFacingError, type CommandDeps, type SlashCommand } from './types.ts';

/**
 * `/publisher info | set-bio text | set-url url | set-icon [url] [image]`:
 * the community's profile on the marketplace (app/publisher-profile.ts).
 * Staff only, checked on every interaction (admin-guard.ts).
 */
export function publisherCommand(deps: CommandDeps & { probe: ImageProbe }): SlashCommand {
  // `info` reads the store; the edits may fetch an image to check it, so they defer.
  return staffCommand('publisher', deps.tiers, new Set(['info']), async (sub, i, inv) => {
    if (sub === 'info') return { embeds: [publisherEmbed(readPublisherProfile(deps.store))] };
    const result = await editPublisherProfile(deps, inv.userId, readEdit(i, sub));
    if (!result.ok) throw new MemberFacingError(result.message);
    inv.log.info({ subcommand: sub, version: result.profile.version }, '/publisher changed the profile');
    return { content: `Saved (profile version ${result.profile.version}).`, embeds: [publisherEmbed(result.profile)] };
  });
}

function readEdit(i: ChatInputCommandInteraction, sub: string): PublisherEdit {
  switch (sub) {
    case 'set-bio':
      return { field: 'bio', text: i.options.getString('text', true) };
    case 'set-url':
      return { field: 'url', url: i.options.getString('url', true) };
    case 'set-icon': {
      const url = i.options.getString('url');
      const image = i.options.getAttachment('image');
      if ((url === null) === (image === null)) throw new MemberFacingError('Give the icon either as a link (`url`) or as an upload (`image`), one of the two.');
      // Discord states an upload's type and size. Its CDN link is signed and expires after about a day, so the marketplace must copy the image when the profile reaches it.
      if (image !== null) return { field: 'icon', url: image.url, image: { contentType: image.contentType, bytes: image.size } };
      return { field: 'icon', url: url ?? '', image: null };
    }
    default:
      throw new MemberFacingError(`\`/publisher ${sub}\` is not available in this version.`);
  }
}
