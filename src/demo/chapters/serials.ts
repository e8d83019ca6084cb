import { check, checkText } from '../expect.ts';
import { HOUR, MEMBERS, STAFF_ID, type Scene } from '../scene.ts';

/**
 * Chapter 3, serials and the license API: hana's access starts with a
 * one-day staff grant, which issues her serial; /scripts shows it; a script
 * verifies it through POST /api/v1/licenses/verify (valid while she has
 * access, invalid once it ends, valid again — the same serial — when she
 * comes back on a subscription); a client asking too often gets 429.
 */

const STARTER = 'starter-scripts';
const ADVANCED = 'advanced-scripts';
/** The license API counts requests per client address (the address nginx forwards). */
const SCRIPT_IP = '203.0.113.10';
const HAMMER_IP = '203.0.113.66';
const LIMIT_PROBES = 40;

export async function playSerialsChapter(s: Scene): Promise<void> {
  const { stage, act, step, fastForward, roles, readable } = s;
  const serialIn = (text: string) => new RegExp('Starter Scripts — serial `(CNC(?:-[A-Z0-9]{4}){4})`').exec(text)?.[1];
  const verify = async (serial: string, script = STARTER, ip = SCRIPT_IP) => {
    const a = await act.verifyLicense(serial, script, ip);
    check(a.status === 200, 'the license API to answer 200', `${a.status} ${a.body}`);
    return a.body;
  };

  s.chapter('Serials — /scripts and the license API', 'a serial per script the tier unlocks, issued when access starts; scripts ask POST /api/v1/licenses/verify');
  act.join(MEMBERS.hana, 'hana');

  let serial = '';
  let grantEnds = 0;
  await step('hana gets Elite from staff for a day: /scripts shows her serial', async () => {
    const { reply } = await act.staff('admin', 'grant', STAFF_ID, { member: MEMBERS.hana, tier: 'elite', duration: '1d' });
    grantEnds = Number(/<t:(\d+):f>/.exec(reply.text)?.[1] ?? NaN) * 1000;
    check(Number.isFinite(grantEnds), 'a grant with an end time', reply.text);
    const shown = await roles('hana', ['Elite']);
    const scripts = await act.scripts(MEMBERS.hana);
    serial = serialIn(scripts.text) ?? '';
    check(/^CNC(-[2-9A-HJKMNP-Z]{4}){4}$/.test(serial), 'a serial for Starter Scripts in /scripts', scripts.text);
    checkText(scripts.text, 'Advanced Scripts — needs Legendary', '/scripts');
    return { did: '/admin grant member:@hana tier:elite duration:1d (by sam), then hana runs /scripts', concierge: `/scripts: "Starter Scripts — serial ${serial}", "Advanced Scripts — needs Legendary"`, discord: shown };
  });

  await step("a script checks hana's serial: valid until her grant ends, and only for her scripts", async () => {
    const answer = JSON.parse(await verify(serial)) as { valid: boolean; tier?: string; expires_at?: string | null };
    // The reply shows the end to the second; the API gives it to the millisecond.
    const expires = Date.parse(answer.expires_at ?? '');
    check(answer.valid && answer.tier === 'elite' && expires >= grantEnds && expires < grantEnds + 1000, `{"valid":true,"tier":"elite","expires_at":"${new Date(grantEnds).toISOString().slice(0, 19)}…"} (the grant's end)`, JSON.stringify(answer));
    const other = await verify(serial, ADVANCED);
    check(other === '{"valid":false}', '{"valid":false} for a script her tier does not unlock', other);
    const typo = await verify(serial.replace(/.$/, (c) => (c === '2' ? '3' : '2')));
    check(typo === '{"valid":false}', '{"valid":false} for a serial one character off', typo);
    return { did: `POST /api/v1/licenses/verify {serial, script:"${STARTER}"}, then ${ADVANCED}, then a mistyped serial`, concierge: `${JSON.stringify(answer)}; ${other}; ${typo} (the same answer for every failure)`, discord: '' };
  });

  await fastForward(grantEnds + HOUR - stage.now(), "a day later, past the end of hana's grant");

  await step('her access ended: the serial is suspended and no longer verifies', async () => {
    const shown = await roles('hana', []);
    // The serial is suspended in the transaction that ended her access, which the role removal followed.
    const answer = await verify(serial);
    check(answer === '{"valid":false}', '{"valid":false} once her access ended', answer);
    const scripts = await act.scripts(MEMBERS.hana);
    checkText(scripts.text, 'your serial is suspended', '/scripts');
    return { did: 'the same script checks again; hana runs /scripts', concierge: `${answer}; /scripts: "${readable(scripts.text.split('\n').find((l) => l.includes('suspended')) ?? '')}"`, discord: shown };
  });

  await step('hana subscribes to Elite: the same serial is valid again', async () => {
    const reply = await act.subscribe(MEMBERS.hana, 'elite');
    check(reply.approveUrl !== null, 'a PayPal link', reply.text);
    const page = await act.approve(reply.approveUrl);
    checkText(page.text, 'You are now Elite', 'the return page');
    const shown = await roles('hana', ['Elite']);
    const again = serialIn((await act.scripts(MEMBERS.hana)).text);
    check(again === serial, `the same serial ${serial} in /scripts`, again ?? '(none)');
    const answer = await verify(serial);
    check(answer === '{"valid":true,"tier":"elite","expires_at":null}', '{"valid":true,"tier":"elite","expires_at":null} (a running subscription)', answer);
    return { did: '/subscribe tier:elite, pays on PayPal; /scripts; the script checks again', concierge: `return page "${page.heading}"; /scripts: the same ${serial}; ${answer}`, discord: shown };
  });

  await step('a client that asks too often gets 429 with Retry-After', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < LIMIT_PROBES && !statuses.includes(429); i++) {
      const a = await act.verifyLicense(serial, STARTER, HAMMER_IP);
      statuses.push(a.status);
      if (a.status === 429) retryAfter = a.retryAfter;
    }
    const answered = statuses.filter((x) => x === 200).length;
    check(statuses.at(-1) === 429 && answered === statuses.length - 1, 'answers, then a 429', statuses.join(','));
    check(Number(retryAfter) > 0, 'a Retry-After header', String(retryAfter));
    const elsewhere = await verify(serial);
    return { did: `${statuses.length} checks in a row from ${HAMMER_IP}`, concierge: `${answered} answered, then 429 with Retry-After: ${retryAfter} s; another address is still answered (${elsewhere})`, discord: '' };
  });
}
