import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideLicense, type FoundSerial } from '../../src/core/license.ts';
import { formatSerial, maskSerial, normaliseScriptKey, normaliseSerial, planSerials, SERIAL_ALPHABET, SERIAL_PATTERN, SERIAL_RANDOM_CHARS } from '../../src/core/serial.ts';
import { buildCatalog } from '../../src/core/tiers.ts';
import { SCRIPT_KEYS, testCatalog } from '../helpers/tiers.ts';

/** Serial format, reading one back, masking, which serials a member holds, and the license verdict: pure tables. */

const catalog = testCatalog();
const NOW = Date.parse('2026-03-15T12:00:00Z');
const indices = (s: string) => [...s].map((c) => SERIAL_ALPHABET.indexOf(c));

describe('the serial alphabet', () => {
  it('has no character a member could misread (0/O, 1/I/L) and no repeats', () => {
    for (const c of '0O1IL') expect(SERIAL_ALPHABET).not.toContain(c);
    expect(new Set(SERIAL_ALPHABET).size).toBe(SERIAL_ALPHABET.length);
    expect(SERIAL_ALPHABET).toMatch(/^[2-9A-Z]+$/);
    expect(SERIAL_ALPHABET.length).toBe(31);
  });
});

describe('formatSerial', () => {
  it('formats 16 indices as CNC and four groups of four (SPEC example)', () => {
    expect(formatSerial(indices('7K2QM9XD4TRBPW3H'))).toBe('CNC-7K2Q-M9XD-4TRB-PW3H');
  });

  it.each([
    ['15 indices', Array.from({ length: 15 }, () => 0)],
    ['17 indices', Array.from({ length: 17 }, () => 0)],
    ['an index past the alphabet', [...Array.from({ length: 15 }, () => 0), SERIAL_ALPHABET.length]],
    ['a negative index', [...Array.from({ length: 15 }, () => 0), -1]],
    ['a fractional index', [...Array.from({ length: 15 }, () => 0), 1.5]],
  ])('refuses %s', (_name, input) => {
    expect(() => formatSerial(input)).toThrow(RangeError);
  });

  it('every draw in range gives a serial of the pattern, and normalising it changes nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: SERIAL_ALPHABET.length - 1 }), { minLength: SERIAL_RANDOM_CHARS, maxLength: SERIAL_RANDOM_CHARS }), (draw) => {
        const serial = formatSerial(draw);
        expect(serial).toMatch(SERIAL_PATTERN);
        expect(normaliseSerial(serial)).toBe(serial);
        expect(normaliseSerial(` ${serial.toLowerCase()}\n`)).toBe(serial);
      }),
    );
  });
});

describe('normalising input', () => {
  it.each([
    ['lower case', 'cnc-7k2q-m9xd-4trb-pw3h', 'CNC-7K2Q-M9XD-4TRB-PW3H'],
    ['spaces and a pasted line break', '  CNC-7K2Q - M9XD-4TRB-PW3H\r\n', 'CNC-7K2Q-M9XD-4TRB-PW3H'],
    ['garbage stays garbage (it is hashed and looked up like any serial)', 'not a serial', 'NOTASERIAL'],
  ])('serial: %s', (_name, input, expected) => {
    expect(normaliseSerial(input)).toBe(expected);
  });

  it('script keys: trimmed, lower case', () => {
    expect(normaliseScriptKey('  Starter-Scripts ')).toBe('starter-scripts');
  });
});

describe('maskSerial', () => {
  it('keeps only the last group', () => {
    expect(maskSerial('CNC-7K2Q-M9XD-4TRB-PW3H')).toBe('CNC-****-****-****-PW3H');
  });
});

describe('planSerials', () => {
  const A = 'a';
  const B = 'b';
  const C = 'c';
  it.each([
    ['access starts: one serial per unlocked script', [], [A, B], { issue: [A, B], reactivate: [], suspend: [] }],
    ['nothing changes', [{ scriptKey: A, status: 'active' }], [A], { issue: [], reactivate: [], suspend: [] }],
    ['access ends: every active serial suspended', [{ scriptKey: A, status: 'active' }, { scriptKey: B, status: 'suspended' }], [], { issue: [], reactivate: [], suspend: [A] }],
    ['the member returns: the same serials come back, none issued', [{ scriptKey: A, status: 'suspended' }, { scriptKey: B, status: 'suspended' }], [A, B], { issue: [], reactivate: [A, B], suspend: [] }],
    ['upgrade: the newly unlocked script gets a serial', [{ scriptKey: A, status: 'active' }], [A, B], { issue: [B], reactivate: [], suspend: [] }],
    ['downgrade: the script no longer unlocked is suspended', [{ scriptKey: A, status: 'active' }, { scriptKey: B, status: 'active' }], [A], { issue: [], reactivate: [], suspend: [B] }],
    ['a script gone from the catalogue is suspended, a new one issued', [{ scriptKey: C, status: 'active' }], [A], { issue: [A], reactivate: [], suspend: [C] }],
  ] as const)('%s', (_name, held, unlocked, expected) => {
    expect(planSerials(held, unlocked)).toEqual(expected);
  });

  it('applying the plan leaves exactly the unlocked scripts active, and a second plan is empty', () => {
    const keys = ['a', 'b', 'c', 'd'];
    fc.assert(
      fc.property(fc.uniqueArray(fc.record({ scriptKey: fc.constantFrom(...keys), status: fc.constantFrom('active', 'suspended') }), { selector: (s) => s.scriptKey }), fc.subarray(keys), (held, unlocked) => {
        const p = planSerials(held, unlocked);
        const after = new Map(held.map((s) => [s.scriptKey, s.status as string]));
        for (const k of p.issue) {
          expect(after.has(k)).toBe(false);
          after.set(k, 'active');
        }
        for (const k of p.reactivate) after.set(k, 'active');
        for (const k of p.suspend) after.set(k, 'suspended');
        for (const k of keys) if (after.has(k)) expect(after.get(k) === 'active').toBe(unlocked.includes(k));
        for (const k of unlocked) expect(after.get(k)).toBe('active');
        expect(planSerials([...after].map(([scriptKey, status]) => ({ scriptKey, status })), unlocked)).toEqual({ issue: [], reactivate: [], suspend: [] });
      }),
    );
  });
});

describe('decideLicense', () => {
  const found = (over: Partial<FoundSerial> = {}): FoundSerial => ({ scriptKey: SCRIPT_KEYS.starter, status: 'active', entitledTier: 'elite', entitledUntil: null, ...over });
  const raised = buildCatalog({ ...catalog.file, scripts: catalog.file.scripts.map((s) => (s.key === SCRIPT_KEYS.starter ? { ...s, min_tier: 'titan' } : s)) });
  it.each([
    ['an active serial of the script, open-ended', found(), SCRIPT_KEYS.starter, catalog, { valid: true, tier: 'elite', expiresAt: null }],
    ['an active serial with a known end', found({ entitledUntil: NOW + 1000 }), SCRIPT_KEYS.starter, catalog, { valid: true, tier: 'elite', expiresAt: NOW + 1000 }],
    ['a higher tier answers with its own key', found({ entitledTier: 'warlord' }), SCRIPT_KEYS.starter, catalog, { valid: true, tier: 'warlord', expiresAt: null }],
    ['no such serial', null, SCRIPT_KEYS.starter, catalog, { valid: false }],
    ['another script', found(), SCRIPT_KEYS.advanced, catalog, { valid: false }],
    ['suspended', found({ status: 'suspended' }), SCRIPT_KEYS.starter, catalog, { valid: false }],
    ['the member holds no tier', found({ entitledTier: null }), SCRIPT_KEYS.starter, catalog, { valid: false }],
    ['the entitlement ended, its lapse check not run yet', found({ entitledUntil: NOW }), SCRIPT_KEYS.starter, catalog, { valid: false }],
    ['a tier gone from the tiers file', found({ entitledTier: 'retired' }), SCRIPT_KEYS.starter, catalog, { valid: false }],
    ['the script now needs a higher tier', found(), SCRIPT_KEYS.starter, raised, { valid: false }],
    ['a script gone from the catalogue', found({ scriptKey: 'gone' }), 'gone', catalog, { valid: false }],
  ] as const)('%s', (_name, f, script, cat, expected) => {
    expect(decideLicense(f, script, cat, NOW)).toEqual(expected);
  });

  it('every failure is the same object shape: nothing tells which part was wrong', () => {
    const failures = [decideLicense(null, SCRIPT_KEYS.starter, catalog, NOW), decideLicense(found({ status: 'suspended' }), SCRIPT_KEYS.starter, catalog, NOW), decideLicense(found(), SCRIPT_KEYS.advanced, catalog, NOW)];
    for (const f of failures) expect(JSON.stringify(f)).toBe('{"valid":false}');
  });
});
