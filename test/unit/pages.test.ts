import { describe, expect, it } from 'vitest';
import type { ReturnOutcome } from '../../src/app/return-from-paypal.ts';
import { cancelPage, escapeHtml, formatDate, renderPage, returnPage } from '../../src/http/pages.ts';

const EVIL = `<script>alert("x")</script> & 'quotes'`;

describe('escapeHtml', () => {
  it('escapes the five HTML specials', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });
});

describe('renderPage', () => {
  it('escapes every dynamic value: heading, paragraphs and the site name', () => {
    const html = renderPage({ status: 200, tone: 'info', heading: EVIL, paragraphs: [EVIL] }, EVIL);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain(`'quotes'`);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;');
  });

  it('is a standalone page for phones: viewport, no external assets', () => {
    const html = renderPage(cancelPage(), 'Guild');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).not.toMatch(/<link|<script|src=|https?:\/\//);
  });
});

describe('returnPage', () => {
  const until = Date.parse('2026-12-24T10:00:00Z');
  it.each<[ReturnOutcome, number, RegExp]>([
    [{ kind: 'active', tierName: 'Titan', linked: true, carried: null }, 200, /^You are now Titan in Guild$/],
    [{ kind: 'active', tierName: 'Elite', linked: true, carried: { tierName: 'Titan', until } }, 200, /^Your change to Elite is confirmed$/],
    [{ kind: 'active', tierName: 'Elite', linked: false, carried: null }, 200, /^Your Elite subscription is active$/],
    [{ kind: 'waiting', tierName: 'Elite' }, 200, /^Almost there$/],
    [{ kind: 'unavailable', error: new Error('x') }, 200, /waiting for PayPal/],
    [{ kind: 'ended', tierName: null }, 200, /not active/],
    [{ kind: 'unknown' }, 404, /could not find/],
    [{ kind: 'invalid' }, 404, /could not find/],
  ])('%j → %i', (outcome, status, heading) => {
    const page = returnPage(outcome, 'Guild');
    expect(page.status).toBe(status);
    expect(page.heading).toMatch(heading);
  });

  it('a confirmed downgrade names the kept tier and the date it ends', () => {
    const page = returnPage({ kind: 'active', tierName: 'Elite', linked: true, carried: { tierName: 'Titan', until } }, 'Guild');
    expect(page.paragraphs[0]).toBe('You keep Titan in Guild until 24 December 2026, the end of the period you paid for; Elite starts then.');
    expect(formatDate(until)).toBe('24 December 2026');
  });

  it('waiting and ended pages read well without a tier name', () => {
    expect(returnPage({ kind: 'waiting', tierName: null }, 'Guild').paragraphs[0]).toMatch(/^PayPal has not confirmed your subscription yet\./);
    expect(returnPage({ kind: 'ended', tierName: 'Titan' }, 'Guild').paragraphs[0]).toMatch(/^PayPal reports this Titan subscription as ended/);
  });
});
