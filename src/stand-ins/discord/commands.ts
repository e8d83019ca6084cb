import { ApplicationCommandOptionType, ApplicationCommandType, ApplicationIntegrationType, type APIApplicationCommand, type APIApplicationCommandOption } from 'discord-api-types/v10';
import { snowflake } from './ids.ts';
import { invalidFormBody, type FieldError } from './errors.ts';

/**
 * Application commands: a bulk overwrite validated like Discord does (names,
 * descriptions, option order and nesting, choices), ids kept for commands
 * that keep their name, as Discord keeps them.
 */

type Path = (string | number)[];
type RawOption = Partial<APIApplicationCommandOption> & { options?: RawOption[]; choices?: { name?: unknown; value?: unknown }[] };
type RawCommand = { name?: unknown; description?: unknown; type?: number; options?: RawOption[]; default_member_permissions?: unknown; [k: string]: unknown };

const NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
const CHOICE_TYPES: readonly number[] = [ApplicationCommandOptionType.String, ApplicationCommandOptionType.Integer, ApplicationCommandOptionType.Number];

function checkName(errors: FieldError[], path: Path, name: unknown, chatInput: boolean): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    errors.push({ path: [...path, 'name'], code: 'APPLICATION_COMMAND_INVALID_NAME', message: 'Command name is invalid' });
  } else if (chatInput && name !== name.toLowerCase()) {
    errors.push({ path: [...path, 'name'], code: 'APPLICATION_COMMAND_INVALID_NAME', message: 'Command name must be lowercase' });
  }
}

function checkDescription(errors: FieldError[], path: Path, d: unknown): void {
  if (typeof d !== 'string' || d.length < 1 || d.length > 100) {
    errors.push({ path: [...path, 'description'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' });
  }
}

function checkOptions(errors: FieldError[], path: Path, options: RawOption[], depth: number): void {
  if (options.length > 25) errors.push({ path, code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' });
  const names = new Set<string>();
  let optionalSeen = false;
  const subs = options.filter((x) => x.type === ApplicationCommandOptionType.Subcommand || x.type === ApplicationCommandOptionType.SubcommandGroup);
  if (subs.length > 0 && subs.length < options.length) {
    errors.push({ path, code: 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID', message: 'Sub-command and sub-command group option types are mutually exclusive to all other types' });
  }
  options.forEach((opt, i) => {
    const p = [...path, i];
    checkName(errors, p, opt.name, true);
    checkDescription(errors, p, opt.description);
    if (typeof opt.name === 'string') {
      if (names.has(opt.name)) errors.push({ path: [...p, 'name'], code: 'APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS', message: 'Option name already exists' });
      names.add(opt.name);
    }
    const type = opt.type ?? 0;
    if (type < 1 || type > 11) errors.push({ path: [...p, 'type'], code: 'BASE_TYPE_CHOICES', message: 'Value must be one of (1..11).' });
    const isRequired = 'required' in opt && opt.required === true;
    if (isRequired && optionalSeen) errors.push({ path: [...p, 'required'], code: 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID', message: 'Required options must be placed before non-required options' });
    if (!isRequired) optionalSeen = true;
    if (type === ApplicationCommandOptionType.SubcommandGroup && depth > 0) errors.push({ path: [...p, 'type'], code: 'APPLICATION_COMMAND_OPTION_TYPE_INVALID', message: 'Sub-command groups cannot be nested' });
    if (type === ApplicationCommandOptionType.Subcommand && depth > 1) errors.push({ path: [...p, 'type'], code: 'APPLICATION_COMMAND_OPTION_TYPE_INVALID', message: 'Sub-commands cannot be nested this deep' });
    if (type === ApplicationCommandOptionType.SubcommandGroup && (opt.options ?? []).some((x) => x.type !== ApplicationCommandOptionType.Subcommand)) {
      errors.push({ path: [...p, 'options'], code: 'APPLICATION_COMMAND_OPTION_TYPE_INVALID', message: 'A sub-command group may only contain sub-commands' });
    }
    const choices = opt.choices ?? [];
    if (choices.length > 0 && !CHOICE_TYPES.includes(type)) errors.push({ path: [...p, 'choices'], code: 'APPLICATION_COMMAND_OPTION_CHOICES_INVALID', message: 'Choices are only allowed on string, integer and number options' });
    if (choices.length > 25) errors.push({ path: [...p, 'choices'], code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' });
    choices.forEach((c, j) => {
      if (typeof c.name !== 'string' || c.name.length < 1 || c.name.length > 100) errors.push({ path: [...p, 'choices', j, 'name'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' });
      const ok = type === ApplicationCommandOptionType.String ? typeof c.value === 'string' && c.value.length <= 100 : typeof c.value === 'number';
      if (!ok) errors.push({ path: [...p, 'choices', j, 'value'], code: 'APPLICATION_COMMAND_OPTION_CHOICE_VALUE_INVALID', message: 'Choice value does not match the option type' });
    });
    if (opt.options) checkOptions(errors, [...p, 'options'], opt.options, depth + 1);
  });
}

/** Throws 400 50035 as Discord would for this bulk-overwrite body. */
export function validateCommands(body: unknown): RawCommand[] {
  if (!Array.isArray(body)) throw invalidFormBody([{ path: [], code: 'BASE_TYPE_ARRAY', message: 'Must be an array.' }]);
  const list = body as RawCommand[];
  const errors: FieldError[] = [];
  if (list.length > 100) errors.push({ path: [], code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 100 or fewer in length.' });
  const seen = new Set<string>();
  list.forEach((cmd, i) => {
    const type = cmd.type ?? ApplicationCommandType.ChatInput;
    const chatInput = type === ApplicationCommandType.ChatInput;
    checkName(errors, [i], cmd.name, chatInput);
    if (chatInput) checkDescription(errors, [i], cmd.description);
    const key = `${type}:${String(cmd.name)}`;
    if (seen.has(key)) errors.push({ path: [i, 'name'], code: 'APPLICATION_COMMANDS_DUPLICATE_NAME', message: 'Application command names must be unique' });
    seen.add(key);
    const perms = cmd.default_member_permissions;
    if (perms !== undefined && perms !== null && !(typeof perms === 'string' && /^\d+$/.test(perms))) {
      errors.push({ path: [i, 'default_member_permissions'], code: 'BASE_TYPE_STRING', message: 'Must be a string of a permission integer.' });
    }
    if (cmd.options) checkOptions(errors, [i, 'options'], cmd.options, 0);
  });
  if (errors.length) throw invalidFormBody(errors);
  return list;
}

/** A registry of one scope (one guild, or global). */
export function createCommandRegistry(applicationId: string, guildId: string | null) {
  let commands: APIApplicationCommand[] = [];

  function toStored(raw: RawCommand, previous: APIApplicationCommand | undefined): APIApplicationCommand {
    const type = raw.type ?? ApplicationCommandType.ChatInput;
    const stored = {
      ...raw,
      id: previous?.id ?? snowflake(),
      application_id: applicationId,
      version: snowflake(),
      type,
      name: String(raw.name),
      description: typeof raw.description === 'string' ? raw.description : '',
      default_member_permissions: (raw.default_member_permissions as string | null | undefined) ?? null,
      nsfw: raw['nsfw'] === true,
      integration_types: (raw['integration_types'] as ApplicationIntegrationType[] | undefined) ?? [ApplicationIntegrationType.GuildInstall],
      contexts: (raw['contexts'] as APIApplicationCommand['contexts']) ?? null,
      ...(guildId ? { guild_id: guildId } : {}),
    } as APIApplicationCommand;
    const { version: _v, ...rest } = stored;
    if (previous) {
      const { version: _pv, ...prevRest } = previous;
      if (JSON.stringify(rest) === JSON.stringify(prevRest)) return previous;
    }
    return stored;
  }

  return {
    list: (): APIApplicationCommand[] => commands,
    overwrite(body: unknown): APIApplicationCommand[] {
      const raw = validateCommands(body);
      commands = raw.map((c) => toStored(c, commands.find((p) => p.name === c.name && p.type === (c.type ?? ApplicationCommandType.ChatInput))));
      return commands;
    },
    create(body: unknown): APIApplicationCommand {
      const [raw] = validateCommands([body]);
      const previous = commands.find((p) => p.name === raw?.name && p.type === (raw?.type ?? ApplicationCommandType.ChatInput));
      const stored = toStored(raw ?? {}, previous);
      commands = [...commands.filter((c) => c !== previous), stored];
      return stored;
    },
    remove(id: string): boolean {
      const before = commands.length;
      commands = commands.filter((c) => c.id !== id);
      return commands.length < before;
    },
    byName: (name: string): APIApplicationCommand | undefined => commands.find((c) => c.name === name && c.type === ApplicationCommandType.ChatInput),
  };
}

export type CommandRegistry = ReturnType<typeof createCommandRegistry>;
