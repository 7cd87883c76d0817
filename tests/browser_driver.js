#!/usr/bin/env node
// Opens DHAT-format profiles in DHAT's own viewer (dh_view.html) in a real
// browser: Debian's chromium, driven by playwright-core (tests/node_modules,
// installed by scripts/bootstrap; playwright never downloads a browser here).
// Used by tests/browser.py; not meant to be run by hand, but it can be:
//
//   echo '{"id":1,"jobs":[{"path":"/tmp/x.json"}]}' | node tests/browser_driver.js
//
// Protocol: one JSON request per line on stdin, one JSON reply per line on
// stdout, in order. Chromium is launched once, before the first request is
// read, and closed at EOF on stdin (or on SIGTERM). The first line written
// is {"ready":true,...} or, if chromium cannot be started,
// {"ready":false,"error":"..."} (and the driver exits 3).
//
// Request: {"id": any, "jobs": [job, ...]}. A job:
//   path        the profile to load (through the viewer's "Load..." input)
//   sorts       labels of sort metrics to select afterwards, in order
//               (e.g. "Total (bytes)"); each redisplay is checked as well
//   screenshot  a PNG path: screenshot of the page once the profile shows
//   timeoutMs   how long the viewer may take to show the profile [30000]
// Reply: {"id": ..., "results": [result, ...]}. A result:
//   path, ok (no error of any kind), error (null or every problem, one per
//   line), text (innerText of the viewer's main section: what it shows),
//   title (the page title), options ([{label, disabled, selected}] of the
//   sort menu after loading), sorts ([{label, ok, error, text, title}]),
//   screenshot (the PNG path, or null), ms (time taken).
// A job with "page" instead of "path" opens that HTML file itself (e.g. a
// memtrack_report page) rather than a profile in the viewer:
//   page        the HTML file to open (file://)
//   waitFor     a JavaScript expression that must become true once the page
//               has loaded [document.readyState === "complete"]
//   steps       done in order: {click: selector}, {check: selector} (a
//               radio button or checkbox), {fill: [selector, text]},
//               {eval: "expression"} (its JSON value goes to `values`),
//               {screenshot: png path, fullPage: bool, clip: {x, y, width,
//               height}}
//   viewport    {width, height} of the window [1280 x 900]
//   timeoutMs   as above
// Its result: page, ok, error, text (the body's innerText), title, values
// (one per eval step), requests (every URL the page asked for, its own
// included), screenshot (the last PNG written, or null), ms.
// An "error" is any of: text the viewer shows in its error style
// (span.error: dh_view.js's tryFunc() puts the exception there, and
// "Error loading file" when the file cannot be read), an uncaught page
// exception, a console message of type "error", a failed request (e.g. the
// viewer's css or js), or the viewer not finishing in time.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');

const VIEWER = process.env.MEMTRACK_DH_VIEW || '/usr/libexec/valgrind/dh_view.html';
const CHROMIUM = process.env.MEMTRACK_CHROMIUM || '/usr/bin/chromium';
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--lang=en-US',
];

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function log(msg) {
  process.stderr.write(`browser_driver: ${msg}\n`);
}

let context = null;
let userDataDir = null;

async function shutdown(code) {
  try {
    if (context) await context.close();
  } catch (e) {
    log(`closing chromium: ${e}`);
  }
  context = null;
  if (userDataDir) {
    try {
      fs.rmSync(userDataDir, { recursive: true, force: true });
    } catch (e) {
      log(`removing ${userDataDir}: ${e}`);
    }
    userDataDir = null;
  }
  process.exit(code);
}

process.on('SIGTERM', () => shutdown(143));
process.on('SIGINT', () => shutdown(130));

// Waits until the viewer has finished with what it was asked to do: the
// timings paragraph appears at the end of displayTree(), an error span when
// anything throws or the file cannot be read. `title` (if given) must also
// be the page title's end (displayTree() sets it to "... - <sort label>").
async function waitForViewer(page, timeoutMs, title) {
  await page.waitForFunction((t) => {
    if (document.querySelector('span.error')) return true;
    if (!document.querySelector('div.timings p')) return false;
    return t === null || document.title.endsWith(t);
  }, title, { timeout: timeoutMs, polling: 20 });
}

// Everything the page shows that says something went wrong, plus what the
// listeners collected since `problems` was last emptied.
async function pageProblems(page, problems) {
  const shown = await page.$$eval('span.error', (els) => els.map((e) => e.textContent));
  const all = shown.map((t) => `viewer shows an error: ${t}`).concat(problems);
  problems.length = 0;
  return all;
}

async function mainText(page) {
  // The second div.section of <body> is the viewer's main div (the first
  // holds the "Load..." button and the sort menu).
  return page.evaluate(() => {
    const secs = document.querySelectorAll('body > div.section');
    return secs.length >= 2 ? secs[1].innerText : document.body.innerText;
  });
}

// One page, reused for every profile (a new one after a failure). Its
// listeners collect into page._memtrackProblems.
let currentPage = null;

async function getPage() {
  if (currentPage && !currentPage.isClosed()) return currentPage;
  const page = await context.newPage();
  const problems = [];
  page._memtrackProblems = problems;
  page.on('pageerror', (e) => problems.push(`page error: ${e.message || e}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('requestfailed', (r) =>
    problems.push(`request failed: ${r.url()}: ${r.failure() ? r.failure().errorText : '?'}`));
  page.on('crash', () => problems.push('page crashed'));
  page._memtrackRequests = [];
  page.on('request', (r) => page._memtrackRequests.push(r.url()));
  currentPage = page;
  return page;
}

async function runPageJob(job) {
  const t0 = Date.now();
  const timeoutMs = job.timeoutMs || 30000;
  const res = { page: job.page, ok: false, error: null, text: '', title: '', values: [],
                requests: [], screenshot: null, ms: 0 };
  const page = await getPage();
  const problems = page._memtrackProblems;
  problems.length = 0;
  page._memtrackRequests.length = 0;
  const errors = [];
  try {
    await page.setViewportSize(job.viewport || { width: 1280, height: 900 });
    await page.goto('file://' + job.page, { waitUntil: 'load', timeout: timeoutMs });
    await page.waitForFunction(job.waitFor || 'document.readyState === "complete"', null,
                               { timeout: timeoutMs, polling: 20 });
    for (const step of job.steps || []) {
      if (step.click !== undefined) {
        await page.locator(step.click).first().click({ timeout: timeoutMs });
      } else if (step.check !== undefined) {
        await page.locator(step.check).first().check({ timeout: timeoutMs });
      } else if (step.fill !== undefined) {
        await page.locator(step.fill[0]).first().fill(step.fill[1], { timeout: timeoutMs });
      } else if (step.eval !== undefined) {
        res.values.push(await page.evaluate(step.eval));
      } else if (step.screenshot !== undefined) {
        const opts = { path: step.screenshot, fullPage: !!step.fullPage };
        if (step.clip) opts.clip = step.clip;
        await page.screenshot(opts);
        res.screenshot = step.screenshot;
      } else {
        throw new Error(`unknown step ${JSON.stringify(step)}`);
      }
    }
    res.text = await page.evaluate(() => document.body.innerText);
    res.title = await page.title();
    errors.push(...problems.splice(0));
  } catch (e) {
    errors.push(String(e && e.message || e));
    errors.push(...problems.splice(0));
    await page.close().catch(() => {});
  }
  res.requests = page._memtrackRequests.slice();
  res.ok = errors.length === 0;
  res.error = res.ok ? null : errors.join('\n');
  res.ms = Date.now() - t0;
  return res;
}

async function runJob(job) {
  if (job.page !== undefined) return runPageJob(job);
  const t0 = Date.now();
  const timeoutMs = job.timeoutMs || 30000;
  const res = {
    path: job.path, ok: false, error: null, text: '', title: '', options: [],
    sorts: [], screenshot: null, ms: 0,
  };
  const page = await getPage();
  const problems = page._memtrackProblems;
  problems.length = 0;
  const errors = [];
  try {
    await page.setViewportSize({ width: 1280, height: 900 });  // a page job may have changed it
    // A fresh document for every profile (the viewer keeps state: the tree,
    // the sort metric).
    await page.goto('file://' + VIEWER, { waitUntil: 'load', timeout: timeoutMs });
    // The viewer's (hidden) file input: what its "Load..." button clicks.
    const input = page.locator('input[type=file]');
    if ((await input.count()) !== 1) throw new Error('the viewer has no (single) file input');
    await input.setInputFiles(job.path);
    try {
      await waitForViewer(page, timeoutMs, null);
    } catch (e) {
      errors.push(`the viewer did not show the profile within ${timeoutMs} ms; it shows: ` +
                  JSON.stringify((await mainText(page)).slice(0, 500)));
    }
    res.text = await mainText(page);
    res.title = await page.title();
    res.options = await page.$$eval('select option', (os) =>
      os.map((o) => ({ label: o.label, disabled: o.disabled, selected: o.selected })));
    errors.push(...await pageProblems(page, problems));
    if (job.screenshot) {
      await page.screenshot({ path: job.screenshot, fullPage: false });
      res.screenshot = job.screenshot;
    }
    for (const label of job.sorts || []) {
      const s = { label, ok: false, error: null, text: '', title: '' };
      const serr = [];
      try {
        const opt = res.options.find((o) => o.label === label);
        if (!opt) throw new Error(`no sort metric "${label}" in the menu: ` +
                                  res.options.map((o) => o.label).join(' | '));
        if (opt.disabled) throw new Error(`sort metric "${label}" is disabled for this profile`);
        await page.locator('select').selectOption({ label }, { timeout: timeoutMs });
        try {
          await waitForViewer(page, timeoutMs, ` - ${label}`);
        } catch (e) {
          serr.push(`the viewer did not redisplay for "${label}" within ${timeoutMs} ms`);
        }
        s.text = await mainText(page);
        s.title = await page.title();
      } catch (e) {
        serr.push(String(e && e.message || e));
      }
      serr.push(...await pageProblems(page, problems));
      s.ok = serr.length === 0;
      s.error = s.ok ? null : serr.join('\n');
      res.sorts.push(s);
      errors.push(...serr.map((x) => `[sort "${label}"] ${x}`));
    }
  } catch (e) {
    errors.push(String(e && e.message || e));
    errors.push(...problems.splice(0));
    // Start the next profile on a new page, whatever state this one is in.
    await page.close().catch(() => {});
  }
  res.ok = errors.length === 0;
  res.error = res.ok ? null : errors.join('\n');
  res.ms = Date.now() - t0;
  return res;
}

async function main() {
  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch (e) {
    out({ ready: false, error: `cannot load playwright-core (npm ci in tests/): ${e.message}` });
    process.exit(3);
  }
  const t0 = Date.now();
  try {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} does not exist`);
    if (!fs.existsSync(VIEWER)) throw new Error(`${VIEWER} does not exist`);
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memtrack-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      locale: 'en-US',
      viewport: { width: 1280, height: 900 },
      timeout: 60000,
    });
  } catch (e) {
    out({ ready: false, error: `cannot start ${CHROMIUM}: ${e.message || e}` });
    await shutdown(3);
  }
  const pages = context.pages();
  for (const p of pages) await p.close().catch(() => {});
  out({ ready: true, browser: context.browser() ? context.browser().version() : null,
        playwright: require('playwright-core/package.json').version, ms: Date.now() - t0 });

  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let req;
    try {
      req = JSON.parse(line);
    } catch (e) {
      out({ id: null, error: `bad request: ${e.message}` });
      continue;
    }
    const results = [];
    for (const job of req.jobs || []) results.push(await runJob(job));
    out({ id: req.id, results });
  }
  await shutdown(0);
}

main().catch((e) => {
  log(`fatal: ${e && e.stack || e}`);
  out({ ready: false, error: `driver crashed: ${e && e.message || e}` });
  shutdown(4);
});
