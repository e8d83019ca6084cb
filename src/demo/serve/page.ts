import { createHash } from 'node:crypto';

/**
 * The `--serve` page: one HTML document with its CSS and JS inline and
 * nothing fetched from anywhere but its own server. The CSP allows exactly
 * these two inline blocks (by hash) and same-origin fetches. The script polls
 * GET /api/state every second and builds the DOM with textContent only —
 * member names, replies and audit embeds are untrusted text.
 */

const STYLE = `
  :root { color-scheme: light; --ink: #1d2733; --dim: #5b6776; --line: #d8dee6; --accent: #4a5fd0; --bad: #c0392b; --ok: #1e8449; }
  * { box-sizing: border-box; }
  body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: var(--ink); background: #f4f6f9; }
  header { display: flex; flex-wrap: wrap; gap: .75rem 1.5rem; align-items: center; padding: .8rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); }
  header h1 { font-size: 1.15rem; margin: 0; }
  .pill { padding: .1rem .6rem; border-radius: 1rem; background: #e7ebf0; }
  .pill.running { background: #d5f0de; color: var(--ok); }
  .pill.stopped { background: #f8d7d3; color: var(--bad); }
  .pill.starting { background: #fdf0c8; }
  main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 1.25rem; padding: 1.25rem 1.5rem; }
  @media (max-width: 900px) { main { grid-template-columns: 1fr; } }
  h2 { font-size: 1rem; margin: 0 0 .6rem; }
  .card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem; margin-bottom: .9rem; }
  .card h3 { font-size: 1.05rem; margin: 0; display: inline; }
  .id { color: var(--dim); font-size: .8rem; margin-left: .5rem; }
  .facts { margin: .35rem 0 .6rem; display: flex; gap: 1.5rem; flex-wrap: wrap; }
  .facts b { font-weight: 600; }
  .buttons { display: flex; flex-wrap: wrap; gap: .35rem; }
  button, select { font: inherit; font-size: .85rem; padding: .25rem .6rem; border: 1px solid #b9c2ce; border-radius: 4px; background: #fff; color: var(--ink); cursor: pointer; }
  button:hover:not(:disabled) { border-color: var(--accent); }
  button:disabled { opacity: .45; cursor: default; }
  button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
  button.danger { color: var(--bad); }
  .reply { white-space: pre-wrap; margin: .6rem 0 0; padding: .45rem .6rem; background: #eef1fb; border-left: 3px solid var(--accent); font-size: .85rem; }
  .reply.failed { background: #fbeeec; border-left-color: var(--bad); }
  .reply .what { display: block; color: var(--dim); font-size: .78rem; }
  .audit { list-style: none; margin: 0; padding: 0; }
  .audit li { background: #fff; border: 1px solid var(--line); border-left: 3px solid #8896a8; border-radius: 4px; padding: .4rem .6rem; margin-bottom: .45rem; }
  .audit .title { font-weight: 600; }
  .audit .when, .audit .line { color: var(--dim); font-size: .8rem; }
  .audit .line { display: block; }
  #notice { color: var(--bad); }
  .empty { color: var(--dim); }
`;

const SCRIPT = `
'use strict';
const cards = new Map();
let tiersShown = false;
let lastTiers = [];

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

async function post(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body || {}) });
  const data = await res.json().catch(function () { return { error: 'HTTP ' + res.status }; });
  if (!res.ok) throw new Error(data.error || ('HTTP ' + res.status));
  return data;
}

function notice(text) { document.getElementById('notice').textContent = text; }

async function run(buttons, path, body) {
  buttons.forEach(function (b) { b.disabled = true; });
  try { await post(path, body); notice(''); }
  catch (err) { notice(err.message); }
  finally { buttons.forEach(function (b) { b.disabled = false; }); refresh(); }
}

function memberCard(m) {
  const card = el('section', 'card');
  card.dataset.member = m.id;
  const head = el('div');
  head.append(el('h3', 'name', m.name), el('span', 'id', m.id));
  const facts = el('div', 'facts');
  const roles = el('span', 'roles'); const paypal = el('span', 'paypal');
  facts.append(roles, paypal);
  const buttons = el('div', 'buttons');
  const select = el('select'); select.setAttribute('aria-label', 'tier for ' + m.name);
  lastTiers.forEach(function (t) { const o = el('option', '', t.name + (t.price ? ' (' + t.price + ')' : '')); o.value = t.key; select.append(o); });
  const all = [];
  const base = '/api/members/' + m.id + '/';
  function button(action, label, cls, body, question) {
    const b = el('button', cls, label); b.type = 'button'; b.dataset.action = action;
    b.addEventListener('click', function () {
      if (question && !window.confirm(question.replace('%s', m.name))) return;
      run(all, base + action, body ? body() : {});
    });
    all.push(b); buttons.append(b); return b;
  }
  buttons.append(select);
  button('subscribe', '/subscribe', 'primary', function () { return { tier: select.value }; });
  const approve = button('approve', 'Approve pending checkout', 'primary');
  button('status', '/status', '');
  button('scripts', '/scripts', '');
  button('cancel', '/cancel', 'danger', null, 'Cancel the membership of %s (as if they clicked Confirm)?');
  button('renew', 'Renewal', '');
  button('fail-payment', 'Payment failure', '');
  button('cancel-at-paypal', 'Cancel at PayPal', 'danger');
  button('refund', 'Refund', 'danger', null, 'Refund the latest payment of %s at PayPal?');
  const reply = el('p', 'reply'); reply.hidden = true;
  card.append(head, facts, buttons, reply);
  document.getElementById('members').append(card);
  return { roles: roles, paypal: paypal, approve: approve, reply: reply, all: all };
}

function render(s) {
  lastTiers = s.tiers;
  document.getElementById('clock').textContent = s.now.slice(0, 16).replace('T', ' ') + ' UTC' + (s.aheadDays ? ' (+' + s.aheadDays + ' days)' : '');
  const svc = document.getElementById('service');
  svc.textContent = 'Concierge: ' + s.service; svc.className = 'pill ' + s.service;
  s.members.forEach(function (m) {
    let c = cards.get(m.id);
    if (!c) { c = memberCard(m); cards.set(m.id, c); }
    c.roles.textContent = '';
    c.roles.append(el('b', '', 'Discord roles: '), m.roles === null ? '(not in server)' : (m.roles.join(', ') || '—'));
    c.paypal.textContent = '';
    c.paypal.append(el('b', '', 'PayPal: '), m.paypal || 'no subscription');
    c.approve.hidden = !m.pendingApprove;
    c.reply.textContent = '';
    c.reply.hidden = !m.lastReply;
    if (m.lastReply) {
      c.reply.className = 'reply' + (m.lastReply.ok ? '' : ' failed');
      c.reply.append(el('span', 'what', m.lastReply.action + ' · ' + m.lastReply.at.slice(0, 16).replace('T', ' ')), m.lastReply.text);
    }
  });
  const audit = document.getElementById('audit');
  audit.textContent = '';
  if (s.audit.length === 0) audit.append(el('li', 'empty', 'Nothing posted yet.'));
  s.audit.forEach(function (a) {
    const li = el('li');
    li.append(el('span', 'title', a.title), ' ', el('span', 'when', a.at.slice(0, 16).replace('T', ' ')));
    a.lines.forEach(function (l) { li.append(el('span', 'line', l)); });
    audit.append(li);
  });
}

let timer = null;
async function refresh() {
  clearTimeout(timer);
  try {
    const res = await fetch('/api/state');
    render(await res.json());
  } catch (err) {
    notice('The demo is not answering (stopped with Ctrl-C?)');
  }
  timer = setTimeout(refresh, 1000);
}

document.querySelectorAll('[data-global]').forEach(function (b) {
  b.addEventListener('click', function () {
    const g = b.dataset.global;
    if (g === 'kill' && !window.confirm('Kill Concierge with SIGKILL (a crash)?')) return;
    const all = Array.from(document.querySelectorAll('[data-global]'));
    if (g === 'day') run(all, '/api/clock/advance', { days: 1 });
    else if (g === 'month') run(all, '/api/clock/advance', { days: 30 });
    else run(all, '/api/service/' + g, {});
  });
});
refresh();
`;

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

/** Only this page's own inline blocks and fetches to its own server. */
export const PAGE_CSP = [`default-src 'none'`, `script-src ${sha256(SCRIPT)}`, `style-src ${sha256(STYLE)}`, `connect-src 'self'`, `img-src data:`, `base-uri 'none'`, `form-action 'none'`, `frame-ancestors 'none'`].join('; ');

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Concierge demo</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>Concierge demo</h1>
  <span id="service" class="pill">Concierge: …</span>
  <span>Clock: <span id="clock">…</span></span>
  <button type="button" data-global="day">Advance 1 day</button>
  <button type="button" data-global="month">Advance 30 days</button>
  <button type="button" data-global="kill" class="danger">Kill service</button>
  <button type="button" data-global="restart">Restart service</button>
  <span id="notice" role="status"></span>
</header>
<main>
  <div>
    <h2>Members (Discord and PayPal stand-ins)</h2>
    <div id="members"></div>
  </div>
  <div>
    <h2>Audit channel (newest first)</h2>
    <ul id="audit" class="audit"></ul>
  </div>
</main>
<script>${SCRIPT}</script>
</body>
</html>`;
