import { ApplicationCommandOptionType, type APIApplicationCommandStringOption, type RESTPostAPIApplicationGuildCommandsJSONBody } from 'discord-api-types/v10';
import type { TierCatalog } from '../../core/tiers.ts';

/**
 * The slash commands as Discord JSON, built from the tiers file: `/subscribe`'s
 * `tier` choices are the tier keys (value) with display names (name), and
 * its optional `plan` choices are the plan names of tiers that sell several
 * plans. Registered by a guild bulk overwrite at start-up, on every tiers
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

export function memberCommandDefinitions(catalog: TierCatalog): RESTPostAPIApplicationGuildCommandsJSONBody[] {
  // SPEC: the choice's name is the tier's display name and its value the tier key.
  const tierChoices = catalog.tiers.slice(0, MAX_CHOICES).map((t) => ({ name: t.name, value: t.key }));
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
