// Drives headless Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe: no WebSocket, so
// Debian's Node 18 is enough) for the dashboard test (dashboard.mjs) and for checks by hand: navigation,
// evaluation, clicks, viewport sizes, screenshots, downloads, requests answered by the test itself, and every
// console error or uncaught exception.
//
//   node tests/browser/cdp.mjs URL STEPS.json      (by hand; README.md)
//
// STEPS.json is a list of steps, run in order:
//   {"wait": 1500}                         sleep (ms)
//   {"eval": "JS expression"}              evaluate in the page (promises awaited), print the JSON result
//   {"click": "CSS selector"}              element.click()
//   {"dialog": true|false}                 how to answer the next confirm()/prompt() (default true)
//   {"viewport": [390, 844]}               resize the viewport (a width below 600 emulates a phone)
//   {"screenshot": "/tmp/x.png"}           full-page PNG; "element": "CSS selector" for one element's box
//   {"goto": "URL"}                        navigate
// Exits 1 if the page logged a console error or threw an uncaught exception.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Start Chromium and attach to its page. Returns the page API (see the methods below). */
export async function launch({ width = 1280, height = 800, log = console.log } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'cdp-'));
  const chrome = spawn(process.env.CHROMIUM || 'chromium', [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-dev-shm-usage',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--mute-audio',
    '--user-data-dir=' + profile, '--window-size=' + width + ',' + height, '--remote-debugging-pipe', 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  chrome.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const toChrome = chrome.stdio[3];
  const fromChrome = chrome.stdio[4];
  let seq = 0;
  const pending = new Map();
  const listeners = [];
  let buf = '';
  fromChrome.on('data', (d) => {
    buf += d.toString('utf8');
    let z;
    while ((z = buf.indexOf('\0')) >= 0) {
      const msg = JSON.parse(buf.slice(0, z));
      buf = buf.slice(z + 1);
      if (msg.id && pending.has(msg.id)) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) p.reject(new Error(p.method + ': ' + JSON.stringify(msg.error))); else p.resolve(msg.result);
      } else for (const l of listeners) l(msg);
    }
  });
  const exited = new Promise((resolve) => chrome.on('exit', resolve));
  function send(method, params = {}, sessionId) {
    const id = ++seq;
    const msg = { id, method, params };
    if (sessionId) msg.sessionId = sessionId;
    toChrome.write(JSON.stringify(msg) + '\0');
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, method });
      exited.then(() => reject(new Error('chromium exited: ' + stderr.slice(-600))));
    });
  }
  const { targetInfos } = await send('Target.getTargets');
  const target = targetInfos.find((t) => t.type === 'page');
  const { sessionId } = await send('Target.attachToTarget', { targetId: target.targetId, flatten: true });
  const s = (method, params) => send(method, params, sessionId);

  const page = { problems: [], downloads: [], acceptDialog: true, width, height };
  let routes = [];
  listeners.push((msg) => {
    const p = msg.params || {};
    if (msg.method === 'Runtime.consoleAPICalled') {
      const text = p.args.map((a) => (a.value !== undefined ? a.value : a.description)).join(' ');
      if (p.type === 'error' || p.type === 'assert') { page.problems.push('console.' + p.type + ': ' + text); log('console.' + p.type + ': ' + text); }
    } else if (msg.method === 'Runtime.exceptionThrown') {
      const d = p.exceptionDetails;
      const text = 'exception: ' + (d.exception && d.exception.description || d.text);
      page.problems.push(text);
      log(text);
    } else if (msg.method === 'Log.entryAdded') {
      // failed requests (a 404 the page expects) are network entries: not counted
      if (p.entry.level === 'error' && p.entry.source !== 'network') { page.problems.push('log: ' + p.entry.text); log('log: ' + p.entry.text); }
    } else if (msg.method === 'Page.javascriptDialogOpening') {
      log('dialog (' + p.type + ', ' + (page.acceptDialog ? 'accepted' : 'dismissed') + '): ' + p.message);
      s('Page.handleJavaScriptDialog', { accept: page.acceptDialog, promptText: p.defaultPrompt || '' });
      page.acceptDialog = true;
    } else if (msg.method === 'Browser.downloadProgress' && p.state === 'completed') {
      page.downloads.push(p.guid);
    } else if (msg.method === 'Browser.downloadWillBegin') {
      page.downloadNames = Object.assign(page.downloadNames || {}, { [p.guid]: p.suggestedFilename });
    } else if (msg.method === 'Fetch.requestPaused') {
      const r = routes.find((x) => x.test(p.request.url));
      const answer = r ? r.handler(p.request.url) : null;
      if (!answer) { s('Fetch.continueRequest', { requestId: p.requestId }); return; }
      s('Fetch.fulfillRequest', { requestId: p.requestId, responseCode: answer.status || 200,
        responseHeaders: [{ name: 'Content-Type', value: answer.type || 'application/json; charset=utf-8' }, { name: 'Cache-Control', value: 'no-store' }],
        body: Buffer.from(answer.body).toString('base64') });
    }
  });
  await s('Page.enable');
  await s('Runtime.enable');
  await s('Log.enable');

  /** Evaluate `expr` in the page (promises awaited); returns its JSON value. Throws on an exception. */
  page.eval = async (expr) => {
    const r = await s('Runtime.evaluate', { expression: expr, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error('eval failed: ' + (r.exceptionDetails.exception && r.exceptionDetails.exception.description || r.exceptionDetails.text));
    return r.result.value;
  };
  /** Wait until `expr` is truthy (polled every 100 ms); returns its value, or null after `ms`. */
  page.waitFor = async (expr, ms = 10000) => {
    const t0 = Date.now();
    for (;;) {
      let v = null;
      try { v = await page.eval(expr); } catch (e) { v = null; }
      if (v) return v;
      if (Date.now() - t0 > ms) return null;
      await sleep(100);
    }
  };
  page.goto = async (url) => {
    await s('Page.navigate', { url });
    await page.waitFor('document.readyState === "complete"', 15000);
  };
  page.click = (sel) => page.eval('(() => { const el = document.querySelector(' + JSON.stringify(sel) + '); if (!el) return "no element"; if (el.click) el.click(); else el.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true, view: window })); return "clicked"; })()');
  /** Move the mouse over the centre of the element matching `sel` (viewport coordinates). */
  page.hover = async (sel) => {
    const b = await page.eval('(() => { const el = document.querySelector(' + JSON.stringify(sel) + '); el.scrollIntoView({block: "center"}); const r = el.getBoundingClientRect(); return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()');
    await s('Input.dispatchMouseEvent', { type: 'mouseMoved', x: b.x, y: b.y });
    await sleep(150);
  };
  /** Press a key ("Tab", "Enter", "ArrowDown", ...) as the keyboard would. */
  page.key = async (key) => {
    const codes = { Tab: 9, Enter: 13, ArrowDown: 40, ArrowUp: 38, Escape: 27, ' ': 32 };
    const base = { key, code: key === ' ' ? 'Space' : key, windowsVirtualKeyCode: codes[key] || 0 };
    await s('Input.dispatchKeyEvent', Object.assign({ type: 'keyDown', text: key === 'Enter' ? '\r' : undefined }, base));
    await s('Input.dispatchKeyEvent', Object.assign({ type: 'keyUp' }, base));
    await sleep(50);
  };
  /** Resize the viewport; widths below 600 emulate a phone (touch, mobile viewport). */
  page.setViewport = async (w, h) => {
    page.width = w;
    page.height = h;
    await s('Emulation.setDeviceMetricsOverride', { width: w, height: h, deviceScaleFactor: 1, mobile: w < 600 });
  };
  /** A PNG of the viewport, of the whole page (`full`), or of one element's box. */
  page.screenshot = async (path, { full = false, element = null } = {}) => {
    let clip;
    if (full) {
      const m = await s('Page.getLayoutMetrics');
      const h = Math.ceil((m.cssContentSize || m.contentSize).height);
      await s('Emulation.setDeviceMetricsOverride', { width: page.width, height: Math.max(page.height, h), deviceScaleFactor: 1, mobile: page.width < 600 });
      await sleep(500); // let the figures follow the new size
    }
    if (element) {
      const b = await page.eval('(() => { const b = document.querySelector(' + JSON.stringify(element) + ').getBoundingClientRect(); return {x: b.left + scrollX, y: b.top + scrollY, width: b.width, height: b.height}; })()');
      clip = Object.assign({ scale: 1 }, b);
    }
    const shot = await s('Page.captureScreenshot', { format: 'png', clip, captureBeyondViewport: full || !!element });
    writeFileSync(path, Buffer.from(shot.data, 'base64'));
    if (full) await page.setViewport(page.width, page.height);
  };
  /** Save downloads into `dir`. */
  page.allowDownloads = (dir) => send('Browser.setDownloadBehavior', { behavior: 'allowAndName', downloadPath: dir, eventsEnabled: true });
  /** Answer requests whose URL matches `re` with handler(url) -> {status, body, type} (null: pass on). */
  page.route = async (re, handler) => {
    routes.push({ test: (u) => re.test(u), handler });
    await s('Fetch.enable', { patterns: [{ urlPattern: '*', requestStage: 'Request' }] });
  };
  page.unroute = async () => { routes = []; await s('Fetch.disable'); };
  page.close = async () => {
    try { await send('Browser.close'); } catch (e) { /* gone */ }
    await Promise.race([exited, sleep(3000)]);
    try { chrome.kill('SIGKILL'); } catch (e) { /* gone */ }
    rmSync(profile, { recursive: true, force: true });
  };
  await page.setViewport(width, height);
  return page;
}

// By hand: node cdp.mjs URL STEPS.json
if (import.meta.url === pathToFileURL(process.argv[1] || '').href) {
  const [url, stepsFile] = process.argv.slice(2);
  if (!url || !stepsFile) {
    console.error('usage: node tests/browser/cdp.mjs URL STEPS.json');
    process.exit(2);
  }
  const steps = JSON.parse(readFileSync(stepsFile, 'utf8'));
  const page = await launch({ width: Number(process.env.WIDTH || 1280), height: Number(process.env.HEIGHT || 800) });
  try {
    await page.goto(url);
    await sleep(1500);
    for (const st of steps) {
      if (st.wait) await sleep(st.wait);
      if (st.goto) { await page.goto(st.goto); await sleep(1500); }
      if (st.viewport) await page.setViewport(st.viewport[0], st.viewport[1]);
      if (st.dialog !== undefined) page.acceptDialog = !!st.dialog;
      if (st.click) { console.log('click ' + st.click + ': ' + await page.click(st.click)); await sleep(300); }
      if (st.eval) console.log('eval ' + st.eval.slice(0, 60) + ' => ' + JSON.stringify(await page.eval(st.eval)));
      if (st.screenshot) { await page.screenshot(st.screenshot, { full: !st.element, element: st.element }); console.log('screenshot ' + st.screenshot); }
    }
  } finally {
    await page.close();
  }
  console.log(page.problems.length ? page.problems.length + ' console error(s) or exception(s)' : 'no console errors');
  process.exit(page.problems.length ? 1 : 0);
}
