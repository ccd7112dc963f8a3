// End-to-end checks of the web app in Debian's Chromium against a real
// packshot server (run.sh starts one on the embedded database and sets
// BASE_URL). Each check is what a person would notice on the screen.

import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { writeFixtures } from './fixtures.mjs';
import { zipEntries } from './zip.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const BASE = process.env.BASE_URL;
const OUT = process.env.TEST_OUTPUT || path.resolve(here, '../../test-output');
const DOCS_SHOT = process.env.DOCS_SCREENSHOT || '';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const packTypes = ['main', 'lifestyle', 'infographic', 'dimensions', 'detail'];
const long = { timeout: 120_000 };

if (!BASE) throw new Error('BASE_URL is not set (run tests/e2e/run.sh)');

let browser;
let fixtures;
const shared = {};

before(async () => {
  mkdirSync(OUT, { recursive: true });
  fixtures = writeFixtures(mkdtempSync(path.join(tmpdir(), 'packshot-e2e-')));
  // launch() gives every run a fresh temporary profile (user-data-dir).
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
});

async function newPage(opts = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, ...opts });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
  return { context, page };
}

async function shot(page, name, opts = {}) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`), ...opts });
}

async function signIn(page, user, { operator = false, screenshot = false } = {}) {
  await page.goto(`${BASE}/`);
  await page.getByLabel('User name').fill(user);
  if (operator) await page.getByLabel(/Operator/).check();
  if (screenshot) await shot(page, '01-sign-in');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Projects', level: 1 }).waitFor();
}

async function createProject(page, name, { screenshot = false, details = true } = {}) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New project' }).click();
  await page.getByLabel('Project name').fill(name);
  await page.getByLabel('Marketplace').selectOption('amazon');
  await page.getByLabel('Product title').fill('Handmade ceramic coffee mug, 350 ml');
  if (details) {
    await page.getByLabel('Feature 1').fill('Dishwasher safe');
    await page.getByLabel('Feature 2').fill('Lead-free glaze');
    await page.getByLabel('Feature 3').fill('Holds 350 ml');
    await page.getByLabel('Dimensions').fill('12 x 9 x 10 cm');
  }
  if (screenshot) await shot(page, '03-new-project');
  await page.getByRole('button', { name: 'Create project' }).click();
  await page.waitForURL(/\/projects\/[0-9a-f-]{36}$/);
  await page.getByRole('heading', { name, level: 1 }).waitFor();
  return new URL(page.url()).pathname.split('/').pop();
}

async function uploadPhoto(page, file) {
  await page.locator('#photo').setInputFiles(file);
}

async function waitForMidProgress(page) {
  const handle = await page.waitForFunction(() => {
    const done = document.querySelector('.page[data-status="completed"]');
    if (done) return { tooLate: true };
    const bars = [...document.querySelectorAll('#pack-progress, .slot [role="progressbar"]')].filter((b) => b.offsetParent !== null);
    const values = bars.map((b) => Number(b.getAttribute('aria-valuenow')));
    const mid = values.filter((v) => v > 0 && v < 100);
    return mid.length ? { values: mid } : null;
  }, null, { polling: 25, timeout: 60_000 });
  return handle.jsonValue();
}

async function waitForCompletePack(page) {
  await page.locator('.page[data-status="completed"]').waitFor(long);
  for (const t of packTypes) {
    await page.locator(`.slot[data-type="${t}"][data-status="completed"] .slot-media img`).waitFor(long);
  }
  await page.waitForFunction((n) => {
    const imgs = [...document.querySelectorAll('.slot[data-status="completed"] .slot-media img')];
    return imgs.length >= n && imgs.every((i) => i.complete && i.naturalWidth > 0);
  }, packTypes.length, long);
}

describe('packshot in a browser', () => {
  test('sign in, create, upload, generate a whole pack live, download the ZIP', long, async () => {
    const { context, page } = await newPage();
    await signIn(page, 'alice', { screenshot: true });
    await shot(page, '02-projects-empty');
    const id = await createProject(page, 'Ceramic mug', { screenshot: true });
    shared.aliceProject = id;

    await uploadPhoto(page, fixtures.photo);
    const generate = page.getByRole('button', { name: 'Generate complete pack' });
    await assert.doesNotReject(generate.and(page.locator(':not([disabled])')).waitFor());
    await page.locator('.preview img').waitFor();
    await shot(page, '04-project-ready');

    // A second tab on the projects list follows the pack live.
    const listPage = await context.newPage();
    await listPage.goto(`${BASE}/`);
    const row = listPage.locator(`.project-row[data-id="${id}"]`);
    await row.waitFor();
    await listPage.locator('#connection[data-state="ws"]').waitFor();
    await listPage.evaluate(() => {
      window.__rowStates = [];
      new MutationObserver(() => {
        for (const r of document.querySelectorAll('.project-row')) window.__rowStates.push(`${r.dataset.status}:${r.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow') ?? ''}`);
      }).observe(document.querySelector('.projects-body'), { childList: true, subtree: true, attributes: true });
    });

    await generate.click();
    const mid = await waitForMidProgress(page);
    assert.ok(!mid.tooLate, 'the pack finished before any progress between 0 and 100 % was shown');
    assert.ok(mid.values.every((v) => v > 0 && v < 100), `progress ${mid.values}`);
    assert.equal(await generate.isDisabled(), true, 'Generate stays disabled while the pack is generating');
    await shot(page, '05-project-generating');
    // For the README, a moment with an image done and others on their way
    // shows the page best; when the engine is too quick for one, the first
    // screenshot stays.
    const nicer = await page.waitForFunction(() => document.querySelector('.page[data-status="generating"]')
      && document.querySelectorAll('.slot[data-status="completed"]').length >= 1
      && document.querySelectorAll('.slot[data-status="processing"]').length >= 1,
    null, { polling: 'raf', timeout: 10_000 }).then(() => true, () => false);
    if (nicer) await shot(page, '05-project-generating');
    if (DOCS_SHOT) copyFileSync(path.join(OUT, '05-project-generating.png'), DOCS_SHOT);

    await waitForCompletePack(page);
    await assert.doesNotReject(page.locator('#connection[data-state="ws"]').waitFor({ timeout: 5000 }), 'live over the WebSocket');
    await listPage.locator(`.project-row[data-id="${id}"][data-status="completed"]`).waitFor(long);
    const rowStates = await listPage.evaluate(() => window.__rowStates);
    assert.ok(rowStates.some((x) => x.startsWith('generating:')), `the list showed the pack generating live: ${rowStates.slice(0, 10).join(', ')}`);
    await listPage.close();
    await shot(page, '06-project-complete', { fullPage: true });
    const cost = await page.locator('#cost').textContent();
    assert.match(cost, /\$\d+\.\d{2}/);
    assert.ok(Number(cost.match(/\$([\d.]+)/)[1]) > 0, `the AI-made lifestyle image costs something (${cost})`);
    for (const t of packTypes) {
      const slot = page.locator(`.slot[data-type="${t}"]`);
      await assert.doesNotReject(slot.locator('.compliance-ok, .compliance-bad').waitFor({ timeout: 5000 }), `${t} has a compliance verdict`);
    }

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download').click()]);
    const zipPath = await download.path();
    const entries = zipEntries(readFileSync(zipPath));
    for (const t of packTypes) {
      const e = entries.find((x) => x.name.includes(t) && /\.(jpe?g|png|webp)$/i.test(x.name));
      assert.ok(e, `the ZIP has the ${t} image (entries: ${entries.map((x) => x.name).join(', ')})`);
      assert.ok(e.size > 1000, `${e.name} is not empty`);
    }

    await page.getByRole('link', { name: 'Projects', exact: true }).first().click();
    await page.locator(`.project-row[data-id="${id}"][data-status="completed"]`).waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('img.thumb')].every((i) => i.complete && i.naturalWidth > 0));
    await shot(page, '07-projects');

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${BASE}/projects/${id}`);
    await page.locator('.page[data-status="completed"]').waitFor();
    await shot(page, '08-project-phone', { fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling on a phone (${overflow} px too wide)`);
    await context.close();
  });

  test('cutting the WebSocket mid-generation falls back and still reaches the final state', long, async () => {
    const { context, page } = await newPage();
    let cut = false;
    const sockets = [];
    await context.routeWebSocket((url) => url.pathname === '/ws', (ws) => {
      if (cut) {
        ws.close({ code: 1011, reason: 'cut by the e2e test' });
        return;
      }
      ws.connectToServer();
      sockets.push(ws);
    });
    await signIn(page, 'carol');
    await createProject(page, 'Mug (network trouble)');
    await uploadPhoto(page, fixtures.photo);
    await page.locator('#generate:not([disabled])').waitFor();
    await page.locator('#connection[data-state="ws"]').waitFor();
    await page.evaluate(() => {
      window.__sameDocument = true;
      window.__states = [];
      const el = document.getElementById('connection');
      new MutationObserver(() => window.__states.push(el.dataset.state)).observe(el, { attributes: true, attributeFilter: ['data-state'] });
    });

    await page.locator('#generate').click();
    const mid = await waitForMidProgress(page);
    assert.ok(!mid.tooLate, 'the pack finished before the WebSocket could be cut');
    cut = true;
    for (const ws of sockets) await ws.close({ code: 1011, reason: 'cut by the e2e test' });

    await page.locator('#connection[data-state="reconnecting"]').waitFor({ timeout: 10_000 });
    await shot(page, '09-connection-lost');
    await waitForCompletePack(page);
    // Whether or not the pack finished first, the page settles on SSE.
    await page.locator('#connection[data-state="sse"]').waitFor({ timeout: 20_000 });
    const states = await page.evaluate(() => window.__states);
    assert.deepEqual(states.filter((s, i) => s !== states[i - 1]).slice(0, 1), ['reconnecting'], `indicator: ${states.join(' → ')}`);
    assert.ok(!states.slice(states.indexOf('reconnecting')).includes('ws'), `the WebSocket stays cut: ${states.join(' → ')}`);
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');
    await context.close();
  });

  test('with neither WebSocket nor SSE the page polls and still completes', long, async () => {
    const { context, page } = await newPage();
    await context.routeWebSocket((url) => url.pathname === '/ws', (ws) => ws.close({ code: 1011, reason: 'blocked by the e2e test' }));
    await context.route((url) => /^\/trpc\/project\.on(List)?Update/.test(url.pathname), (route) => route.abort());
    await signIn(page, 'dave');
    await createProject(page, 'Mug (polling)');
    await page.locator('#connection[data-state="polling"]').waitFor({ timeout: 30_000 });
    await uploadPhoto(page, fixtures.photo);
    await page.locator('#generate:not([disabled])').waitFor();
    await page.locator('#generate').click();
    await waitForCompletePack(page);
    assert.equal(await page.locator('#connection').getAttribute('data-state'), 'polling');
    await context.close();
  });

  test('a text file named .jpg is refused with the server’s message', long, async () => {
    const { context, page } = await newPage();
    await signIn(page, 'erin');
    const id = await createProject(page, 'Not a photo');
    await uploadPhoto(page, fixtures.text);
    const error = page.locator('#photo-error');
    await error.waitFor();

    // The same upload straight to the API: the page must show its message.
    const token = await page.evaluate(() => localStorage.getItem('packshot.token'));
    const fd = new FormData();
    fd.append('projectId', id);
    fd.append('file', new Blob([readFileSync(fixtures.text)], { type: 'image/jpeg' }), 'not-a-photo.jpg');
    const res = await fetch(`${BASE}/trpc/image.upload`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: fd });
    const body = await res.json();
    assert.ok(body.error, `the server refuses the file (HTTP ${res.status})`);
    const { message } = body.error.json; // superjson, the server's default transformer
    assert.ok(message.length > 0);
    const shown = (await error.textContent()).trim();
    assert.equal(shown, message.charAt(0).toUpperCase() + message.slice(1));
    assert.equal(await page.locator('#generate').isDisabled(), true, 'no pack without a photo');
    await shot(page, '10-upload-refused');
    await context.close();
  });

  test('usable with the keyboard alone', long, async () => {
    const { context, page } = await newPage();
    const tabTo = async (match) => {
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        if (await page.evaluate(match)) return;
      }
      assert.fail(`Tab never reached ${match}`);
    };
    await page.goto(`${BASE}/`);
    await page.keyboard.type('grace');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Projects', level: 1 }).waitFor();
    await tabTo(() => document.activeElement?.textContent?.trim() === 'New project' && !!document.activeElement.closest('.page-head'));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'New project' }).waitFor();
    await page.keyboard.type('Keyboard mug');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/projects\/[0-9a-f-]{36}$/);
    await page.getByRole('heading', { name: 'Keyboard mug' }).waitFor();
    await tabTo(() => document.activeElement?.id === 'photo');
    const label = await page.evaluate(() => document.activeElement.labels?.[0]?.textContent ?? '');
    assert.match(label, /Drop a product photo here/);
    await context.close();
  });

  test('another user opening the project URL sees "not found"', long, async () => {
    assert.ok(shared.aliceProject, 'needs the first check’s project');
    const { context, page } = await newPage();
    await signIn(page, 'bob');
    await page.goto(`${BASE}/projects/${shared.aliceProject}`);
    await page.getByRole('heading', { name: 'Project not found' }).waitFor();
    assert.equal(await page.locator('.slot').count(), 0, 'nothing of the project is shown');
    await shot(page, '11-not-found');
    await context.close();
  });

  test('images that need missing details say so, and are made once the details are added', long, async () => {
    const { context, page } = await newPage();
    await signIn(page, 'frank');
    await createProject(page, 'Mug (no details yet)', { details: false });
    await uploadPhoto(page, fixtures.photo);
    await page.locator('#generate:not([disabled])').waitFor();
    await page.locator('#generate').click();
    await page.locator('.page[data-status="completed"]').waitFor(long);
    for (const t of ['infographic', 'dimensions']) {
      const slot = page.locator(`.slot[data-type="${t}"]`);
      assert.equal(await slot.getAttribute('data-status'), 'none', `${t} is not part of a pack without details`);
      assert.match(await slot.locator('.slot-hint').textContent(), /add (it|them) under Product/);
    }
    await shot(page, '12-project-needs-details', { fullPage: true });

    // Add the details, then make each image from its card, with a prompt.
    await page.getByRole('button', { name: 'Edit' }).click();
    const form = page.getByRole('form', { name: 'Edit product details' });
    await form.getByLabel('Feature 1').fill('Dishwasher safe');
    await form.getByLabel('Dimensions').fill('12 x 9 x 10 cm');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.locator('.details dd', { hasText: '12 x 9 x 10 cm' }).waitFor();
    for (const t of ['infographic', 'dimensions']) {
      const slot = page.locator(`.slot[data-type="${t}"]`);
      await slot.getByRole('button', { name: 'Generate…' }).click();
      await slot.getByLabel(/Custom prompt/).fill('clean and simple');
      await slot.getByRole('button', { name: 'Generate', exact: true }).click();
      await page.locator(`.slot[data-type="${t}"][data-status="completed"] .slot-media img`).waitFor(long);
    }
    await waitForCompletePack(page);

    // A custom image the AI service refuses (the fake refuses FAIL-E2E):
    // the job fails for good, the card says why, and Retry runs it again.
    const custom = page.locator('.slot[data-type="custom"]');
    await custom.getByRole('button', { name: 'Generate…' }).click();
    await custom.getByLabel('Describe the image you want').fill('FAIL-E2E the mug on a picnic blanket');
    await custom.getByRole('button', { name: 'Generate', exact: true }).click();
    const failed = page.locator('.slot[data-type="custom"][data-status="failed"]');
    await failed.waitFor(long);
    assert.match(await failed.locator('.slot-error').textContent(), /safety system/);
    const version = async () => Number((await page.locator('.project-meta-line').textContent()).match(/version (\d+)/)[1]);
    const before = await version();
    await failed.getByRole('button', { name: 'Retry' }).click();
    await page.waitForFunction((v) => Number(document.querySelector('.project-meta-line')?.textContent?.match(/version (\d+)/)?.[1]) > v, before, long);
    await page.locator('.slot[data-type="custom"][data-status="failed"] .slot-error').waitFor(long);
    await shot(page, '13-project-failed-image', { fullPage: true });
    await context.close();
  });

  test('the operators’ job monitor shows counts per status', long, async () => {
    const { context, page } = await newPage();
    await signIn(page, 'ops', { operator: true });
    await page.getByRole('link', { name: 'Job monitor' }).click();
    await page.getByRole('heading', { name: 'Job monitor' }).waitFor();
    const completed = page.locator('.stat[data-status="completed"] .stat-value');
    await completed.waitFor();
    await page.waitForFunction(() => Number(document.querySelector('.stat[data-status="completed"] .stat-value')?.textContent?.replace(/\D/g, '')) >= 5);
    const failed = await page.locator('.stat[data-status="failed"] .stat-value').textContent();
    assert.ok(Number(failed) >= 1, `the failed custom image is counted (${failed})`);
    const row = page.locator('.failed-card tbody tr', { hasText: 'image.custom' }).first();
    assert.match(await row.textContent(), /safety system/);
    await row.waitFor();
    assert.match(await row.locator('.err-cell').textContent(), /\S/, 'the failed job shows its error');
    await shot(page, '14-job-monitor', { fullPage: true });
    await row.getByRole('button', { name: /Retry/ }).click();
    // The job runs again, is refused again, and is back in the list.
    await page.locator('.failed-card tbody tr', { hasText: 'image.custom' }).first().locator('button:not([disabled])', { hasText: /^Retry$/ }).waitFor(long);
    assert.equal(await page.locator('.alert-error').isVisible(), false, 'the retry was accepted');
    await context.close();
  });

  test('after a WebSocket cut the page moves to SSE, and back to the WebSocket once it works again', long, async () => {
    const { context, page } = await newPage();
    let cut = false;
    const sockets = [];
    const sent = []; // every message the page sent over a real socket, in order
    await context.routeWebSocket((url) => url.pathname === '/ws', (ws) => {
      if (cut) {
        ws.close({ code: 1011, reason: 'cut by the e2e test' });
        return;
      }
      const server = ws.connectToServer();
      ws.onMessage((m) => {
        sent.push(String(m));
        server.send(m);
      });
      sockets.push(ws);
    });
    await signIn(page, 'frank');
    await createProject(page, 'Mug (back to WebSocket)');
    await page.locator('#connection[data-state="ws"]').waitFor();
    await page.evaluate(() => {
      window.__sameDocument = true;
      window.__states = [];
      const el = document.getElementById('connection');
      new MutationObserver(() => window.__states.push(el.dataset.state)).observe(el, { attributes: true, attributeFilter: ['data-state'] });
    });

    cut = true;
    for (const ws of sockets.splice(0)) await ws.close({ code: 1011, reason: 'cut by the e2e test' });
    await page.locator('#connection[data-state="sse"]').waitFor({ timeout: 30_000 });
    // A change while on SSE: the project's version moves on, and its event reaches the page.
    await uploadPhoto(page, fixtures.photo);
    await page.locator('#generate:not([disabled])').waitFor();

    const mark = sent.length;
    cut = false;
    await page.locator('#connection[data-state="ws"]').waitFor({ timeout: 60_000 });
    const states = await page.evaluate(() => window.__states);
    const changes = states.filter((s, i) => s !== states[i - 1]);
    assert.equal(changes.at(-1), 'ws', `indicator: ${changes.join(' → ')}`);
    assert.ok(changes.indexOf('sse') < changes.lastIndexOf('ws'), `SSE came before the way back: ${changes.join(' → ')}`);

    // The project's subscription moved to the new socket resuming after the last event
    // it had (wsLink may send several messages as one array).
    const messages = sent.slice(mark).flatMap((m) => {
      try {
        return [JSON.parse(m)].flat();
      } catch {
        return []; // PING
      }
    });
    const resumed = messages.find((m) => m?.method === 'subscription' && m.params?.path === 'project.onUpdate');
    assert.ok(resumed, `no project.onUpdate on the new socket: ${JSON.stringify(messages)}`);
    const input = resumed.params.input?.json ?? resumed.params.input;
    assert.match(String(input?.lastEventId), /^\d+$/, `the subscription resumes from lastEventId: ${JSON.stringify(resumed.params)}`);

    // Live updates now come over the WebSocket: a whole pack, watched to the end.
    await page.locator('#generate').click();
    await waitForCompletePack(page);
    assert.equal(await page.locator('#connection').getAttribute('data-state'), 'ws');
    const after = (await page.evaluate(() => window.__states)).slice(states.length);
    assert.ok(!after.includes('sse') && !after.includes('polling'), `stayed on the WebSocket: ${after.join(' → ')}`);
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');
    await context.close();
  });

  test('the job monitor follows the queue without polling', long, async () => {
    const ops = await newPage();
    const polls = [];
    await ops.context.route((url) => /admin\.(jobStats|failedJobs)/.test(url.pathname), (route) => {
      polls.push(route.request().url());
      return route.continue();
    });
    await signIn(ops.page, 'ops-live', { operator: true });
    await ops.page.getByRole('link', { name: 'Job monitor' }).click();
    await ops.page.locator('#connection[data-state="ws"]').waitFor();
    await ops.page.locator('.stat[data-status="completed"] .stat-value').waitFor();
    const completed = await ops.page.evaluate(() => Number(document.querySelector('.stat[data-status="completed"] .stat-value')?.textContent?.replace(/\D/g, '')));
    const asked = polls.length;

    // Someone else makes a whole pack; the monitor counts its jobs as they finish.
    const user = await newPage();
    await signIn(user.page, 'gina');
    await createProject(user.page, 'Mug (watched by the operators)');
    await uploadPhoto(user.page, fixtures.photo);
    await user.page.locator('#generate:not([disabled])').waitFor();
    await user.page.locator('#generate').click();
    await waitForCompletePack(user.page);
    await ops.page.waitForFunction((n) => Number(document.querySelector('.stat[data-status="completed"] .stat-value')?.textContent?.replace(/\D/g, '')) >= n,
      completed + packTypes.length, long);

    assert.equal(polls.length - asked, 0, 'the monitor asked admin.jobStats / admin.failedJobs while subscribed');
    assert.equal(await ops.page.locator('#connection').getAttribute('data-state'), 'ws');
    await user.context.close();
    await ops.context.close();
  });
});
