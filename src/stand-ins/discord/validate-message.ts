import { ButtonStyle, ComponentType, MessageFlags, type APIEmbed } from 'discord-api-types/v10';
import { emptyMessage, invalidFormBody, type FieldError } from './errors.ts';

/**
 * Discord's limits on a message body (channel messages, interaction replies,
 * webhook edits and follow-ups), so an embed or button Discord would reject
 * is rejected here too, with the same 400 50035 Invalid Form Body.
 */

export interface MessageBody {
  content?: string;
  embeds?: APIEmbed[];
  components?: unknown[];
  flags?: number;
  attachments?: { id: string | number; filename?: string; description?: string }[];
  tts?: boolean;
  /** A client-chosen id (integer or string of at most 25 characters). */
  nonce?: string | number;
  /** With a nonce: a message by the same author with the same nonce in the last few minutes is returned instead of a new one. */
  enforce_nonce?: boolean;
}

type Path = (string | number)[];

const maxLength = (path: Path, max: number): FieldError => ({ path, code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${max} or fewer in length.` });
const required = (path: Path): FieldError => ({ path, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });

function text(errors: FieldError[], path: Path, value: unknown, max: number, isRequired = false): number {
  if (value === undefined || value === null) {
    if (isRequired) errors.push(required(path));
    return 0;
  }
  if (typeof value !== 'string') {
    errors.push({ path, code: 'BASE_TYPE_STRING', message: 'Must be a string.' });
    return 0;
  }
  if (isRequired && value.length === 0) errors.push({ path, code: 'BASE_TYPE_MIN_LENGTH', message: 'Must be 1 or more in length.' });
  if (value.length > max) errors.push(maxLength(path, max));
  return value.length;
}

function checkEmbed(errors: FieldError[], path: Path, e: APIEmbed): number {
  let total = 0;
  total += text(errors, [...path, 'title'], e.title, 256);
  total += text(errors, [...path, 'description'], e.description, 4096);
  total += text(errors, [...path, 'footer', 'text'], e.footer?.text, 2048, e.footer !== undefined);
  total += text(errors, [...path, 'author', 'name'], e.author?.name, 256, e.author !== undefined);
  if (e.color !== undefined && (!Number.isInteger(e.color) || e.color < 0 || e.color > 0xffffff)) {
    errors.push({ path: [...path, 'color'], code: 'NUMBER_TYPE_MAX', message: 'int value should be less than or equal to 16777215.' });
  }
  if (e.timestamp !== undefined && Number.isNaN(Date.parse(e.timestamp))) {
    errors.push({ path: [...path, 'timestamp'], code: 'DATE_TIME_TYPE_PARSE', message: 'Could not parse timestamp. Expected ISO8601 format.' });
  }
  const fields = e.fields ?? [];
  if (fields.length > 25) errors.push({ path: [...path, 'fields'], code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' });
  fields.forEach((f, i) => {
    total += text(errors, [...path, 'fields', i, 'name'], f.name, 256, true);
    total += text(errors, [...path, 'fields', i, 'value'], f.value, 1024, true);
  });
  return total;
}

function checkComponents(errors: FieldError[], components: unknown[]): void {
  if (components.length > 5) errors.push({ path: ['components'], code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 5 or fewer in length.' });
  const ids = new Set<string>();
  components.forEach((row, r) => {
    const rowObj = row as { type?: number; components?: unknown[] };
    if (rowObj.type !== ComponentType.ActionRow) {
      errors.push({ path: ['components', r, 'type'], code: 'COMPONENT_LAYOUT_WIDTH_EXCEEDED', message: 'Top-level components must be action rows unless IS_COMPONENTS_V2 is set.' });
      return;
    }
    const children = rowObj.components ?? [];
    if (children.length < 1 || children.length > 5) errors.push({ path: ['components', r, 'components'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 5 in length.' });
    children.forEach((c, i) => {
      const b = c as { type?: number; style?: number; custom_id?: string; url?: string; label?: string };
      const p: Path = ['components', r, 'components', i];
      if (b.type !== ComponentType.Button) {
        if (typeof b.custom_id === 'string') text(errors, [...p, 'custom_id'], b.custom_id, 100, true);
        return;
      }
      text(errors, [...p, 'label'], b.label, 80);
      if (b.style === ButtonStyle.Link) {
        if (!b.url) errors.push(required([...p, 'url']));
        if (b.custom_id !== undefined) errors.push({ path: [...p, 'custom_id'], code: 'BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED', message: 'A custom id cannot be set on link buttons.' });
      } else if (b.style !== ButtonStyle.Premium) {
        text(errors, [...p, 'custom_id'], b.custom_id, 100, true);
        if (b.url !== undefined) errors.push({ path: [...p, 'url'], code: 'BUTTON_COMPONENT_URL_NOT_ALLOWED', message: 'A URL can only be set on link buttons.' });
        if (typeof b.custom_id === 'string') {
          if (ids.has(b.custom_id)) errors.push({ path: [...p, 'custom_id'], code: 'COMPONENT_CUSTOM_ID_DUPLICATED', message: 'Component custom id cannot be duplicated' });
          ids.add(b.custom_id);
        }
      }
    });
  });
}

/**
 * Throws Discord's 400 for a body it would refuse. `creating`: a new message
 * must have something in it (content, an embed, a component or a file).
 */
export function validateMessage(raw: unknown, o: { creating: boolean; files: number }): MessageBody {
  const body = (raw ?? {}) as MessageBody;
  const errors: FieldError[] = [];
  text(errors, ['content'], body.content, 2000);
  if (typeof body.nonce === 'string' && body.nonce.length > 25) errors.push(maxLength(['nonce'], 25));
  const embeds = body.embeds ?? [];
  if (embeds.length > 10) errors.push({ path: ['embeds'], code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 10 or fewer in length.' });
  const total = embeds.reduce((sum, e, i) => sum + checkEmbed(errors, ['embeds', i], e), 0);
  if (total > 6000) errors.push({ path: ['embeds'], code: 'MAX_EMBED_SIZE_EXCEEDED', message: 'Embed size exceeds maximum size of 6000' });
  const v2 = ((body.flags ?? 0) & MessageFlags.IsComponentsV2) !== 0;
  if (!v2) checkComponents(errors, body.components ?? []);
  if (errors.length) throw invalidFormBody(errors);
  const empty = !body.content && embeds.length === 0 && (body.components ?? []).length === 0 && o.files === 0 && (body.attachments ?? []).length === 0;
  if (o.creating && empty) throw emptyMessage();
  return body;
}
