import {
  ApplicationCommandOptionType,
  type APIApplicationCommandBasicOption,
  type APIApplicationCommandStringOption,
  type RESTPostAPIApplicationGuildCommandsJSONBody,
} from 'discord-api-types/v10';
import type { TierCatalog } from '../../core/tiers.ts';

/**
 * The slash commands as Discord JSON, built from the tiers file: `/subscribe`'s
 * `tier` choices are the tier keys (value) with display names (name), and
 * its optional `plan` choices are the plan names of tiers that sell several
 * plans. The member commands and the staff commands (`/admin`,
 * `/publisher`) go in one guild bulk overwrite at start-up, on every tiers
 * file reload and by `npx concierge register-commands`.
 */

/** Discord's cap on choices per option. */
const MAX_CHOICES = 25;

/** Plan names offered in `/subscribe plan`, deduplicated case-insensitively ("Monthly", "Yearly"). */
export function planChoices(catalog: TierCatalog): { name: string; value: string }[] {
  const byValue = new Map<string, string>();
  for (const tier of catalog.tiers) {
    if (tier.plan_options.length < 2) continue;
    for (const p of tier.plan_options) if (!byValue.has(p.name.toLowerCase())) byValue.set(p.name.toLowerCase(), p.name);
  }
  return [...byValue].slice(0, MAX_CHOICES).map(([value, name]) => ({ name, value }));
}

/** Everything registered in the guild, in one bulk overwrite: an overwrite without a command deletes it. */
export function guildCommandDefinitions(catalog: TierCatalog): RESTPostAPIApplicationGuildCommandsJSONBody[] {
  return [...memberCommandDefinitions(catalog), ...staffCommandDefinitions(catalog)];
}

function tierChoicesOf(catalog: TierCatalog): { name: string; value: string }[] {
  return catalog.tiers.slice(0, MAX_CHOICES).map((t) => ({ name: t.name, value: t.key }));
}

export function memberCommandDefinitions(catalog: TierCatalog): RESTPostAPIApplicationGuildCommandsJSONBody[] {
  // SPEC: the choice's name is the tier's display name and its value the tier key.
  const tierChoices = tierChoicesOf(catalog);
  const plans = planChoices(catalog);
  const planOption: APIApplicationCommandStringOption[] =
    plans.length === 0
      ? []
      : [{ type: ApplicationCommandOptionType.String, name: 'plan', description: 'How often you pay, for tiers with several plans (default: the first)', required: false, choices: plans }];
  return [
    {
      name: 'subscribe',
      description: 'Get a membership tier (or change yours) and pay with PayPal',
      options: [
        { type: ApplicationCommandOptionType.String, name: 'tier', description: 'The membership tier you want', required: true, choices: tierChoices },
        ...planOption,
      ],
    },
    { name: 'status', description: 'See your membership: tier, renewal date and last payment' },
    { name: 'scripts', description: 'See the scripts your tier unlocks, and which tier unlocks the rest' },
    { name: 'cancel', description: 'Cancel your PayPal subscription (you see what you keep before confirming)' },
  ];
}

/**
 * Hidden from everyone but administrators (`default_member_permissions`
 * "0"); a server may open them to its staff role in Server Settings →
 * Integrations. The handlers check staff again on every interaction
 * (admin-guard.ts), since that setting can also open them to anyone.
 */
const STAFF_ONLY = '0';

const member = (description: string, required = true): APIApplicationCommandBasicOption => ({ type: ApplicationCommandOptionType.User, name: 'member', description, required });
const DURATION_HINT = '7d, 12h, 1mo, 2w, 1y';

/** `/admin` and `/publisher`, subcommands and options exactly as SPEC "Staff commands" lists them. */
export function staffCommandDefinitions(catalog: TierCatalog): RESTPostAPIApplicationGuildCommandsJSONBody[] {
  const sub = (name: string, description: string, options: APIApplicationCommandBasicOption[] = []) => ({ type: ApplicationCommandOptionType.Subcommand as const, name, description, options });
  return [
    {
      name: 'admin',
      description: 'Staff: look up, grant, revoke and extend memberships; resync, export, reconcile',
      default_member_permissions: STAFF_ONLY,
      options: [
        sub('lookup', 'Show a member’s tier, subscriptions, grants, serials and recent audit entries', [member('The member to look up')]),
        sub('grant', 'Give a member a tier for a while or for good (a staff comp, not a payment)', [
          member('The member to give the tier to'),
          { type: ApplicationCommandOptionType.String, name: 'tier', description: 'The tier to grant', required: true, choices: tierChoicesOf(catalog) },
          { type: ApplicationCommandOptionType.String, name: 'duration', description: `How long: ${DURATION_HINT} or lifetime (default: lifetime)`, required: false, max_length: 20 },
        ]),
        sub('revoke', 'End a member’s staff grants now; offers to cancel their PayPal subscription', [
          member('The member whose access to revoke'),
          { type: ApplicationCommandOptionType.String, name: 'reason', description: 'Why (kept in the audit log and sent to PayPal on a cancel)', required: false, max_length: 200 },
        ]),
        sub('extend', 'Extend a member’s grant, or add goodwill days after their paid period', [
          member('The member whose access to extend'),
          { type: ApplicationCommandOptionType.String, name: 'duration', description: `How much longer: ${DURATION_HINT}`, required: true, max_length: 20 },
        ]),
        sub('resync', 'Re-apply tier roles on Discord from the store: one member, or everyone', [member('Only this member (default: every member)', false)]),
        sub('export', 'Download every member as a CSV file'),
        sub('reconcile', 'Dry run: list differences between the store and Discord roles'),
      ],
    },
    {
      name: 'publisher',
      description: 'Staff: the community’s publisher profile on the marketplace',
      default_member_permissions: STAFF_ONLY,
      options: [
        sub('info', 'Show the publisher profile as the marketplace gets it'),
        sub('set-bio', 'Set the profile text', [{ type: ApplicationCommandOptionType.String, name: 'text', description: 'Up to 1,000 characters', required: true, max_length: 1000 }]),
        sub('set-url', 'Set the profile link', [{ type: ApplicationCommandOptionType.String, name: 'url', description: 'An https:// address', required: true, max_length: 2000 }]),
        sub('set-icon', 'Set the profile icon from a link or an uploaded image (PNG, JPEG, GIF or WebP, up to 2 MiB)', [
          { type: ApplicationCommandOptionType.String, name: 'url', description: 'An https:// link to the image', required: false, max_length: 2000 },
          { type: ApplicationCommandOptionType.Attachment, name: 'image', description: 'Or upload the image', required: false },
        ]),
      ],
    },
  ];
}
