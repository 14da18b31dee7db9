// Drives headless Chromium over the DevTools protocol for the dashboard checks in README.md:
// full-page screenshots, clicks with confirm() answered, and every console error or exception.
// Needs Node 20+ (run with --experimental-websocket on Node 20/21) and chromium on PATH.
//
//   node --experimental-websocket tests/browser/cdp.mjs URL STEPS.json
//
// STEPS.json is a list of steps, run in order:
//   {"wait": 1500}                         sleep (ms)
//   {"eval": "JS expression"}              evaluate in the page, print the (JSON) result
//   {"click": "CSS selector"}              element.click()
//   {"dialog": true|false}                 how to answer the next confirm()/prompt() (default true)
//   {"screenshot": "/tmp/x.png"}           full-page PNG; add "element": "CSS selector" for that element only
//   {"goto": "URL"}                        navigate
// Exits 1 if the page logged a console error or threw an uncaught exception.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, stepsFile] = process.argv.slice(2);
if (!url || !stepsFile) {
  console.error('usage: node --experimental-websocket cdp.mjs URL STEPS.json');
  process.exit(2);
}
const steps = JSON.parse(readFileSync(stepsFile, 'utf8'));
const profile = mkdtempSync(join(tmpdir(), 'cdp-'));
const width = Number(process.env.WIDTH || 1280);
const height = Number(process.env.HEIGHT || 1000);
const chrome = spawn(process.env.CHROMIUM || 'chromium', [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--user-data-dir=' + profile, '--window-size=' + width + ',' + height,
  '--remote-debugging-port=0', 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let problems = 0;

function cleanup() {
  try { chrome.kill(); } catch (e) { /* gone */ }
  setTimeout(() => { try { rmSync(profile, { recursive: true, force: true }); } catch (e) { /* ok */ } }, 300);
}

const wsBrowser = await new Promise((resolve, reject) => {
  let buf = '';
  chrome.stderr.on('data', (d) => {
    buf += d;
    const m = buf.match(/DevTools listening on (ws:\/\/\S+)/);
    if (m) resolve(m[1]);
  });
  setTimeout(() => reject(new Error('chromium did not start')), 20000);
});
const port = new URL(wsBrowser).port;
let pageWs;
for (let i = 0; i < 50 && !pageWs; i++) {
  const list = await (await fetch('http://127.0.0.1:' + port + '/json/list')).json();
  const page = list.find((t) => t.type === 'page');
  if (page) pageWs = page.webSocketDebuggerUrl; else await sleep(100);
}

const ws = new WebSocket(pageWs);
await new Promise((r) => ws.addEventListener('open', r, { once: true }));
let seq = 0;
const pending = new Map();
let acceptDialog = true;
function send(method, params = {}) {
  const id = ++seq;
  ws.send(JSON.stringify({ id, method, params }));
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}
ws.addEventListener('message', (ev) => {
  const msg = JSON.parse(ev.data);
  if (msg.id && pending.has(msg.id)) {
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(JSON.stringify(msg.error))); else p.resolve(msg.result);
    return;
  }
  if (msg.method === 'Runtime.consoleAPICalled') {
    const text = msg.params.args.map((a) => (a.value !== undefined ? a.value : a.description)).join(' ');
    console.log('console.' + msg.params.type + ': ' + text);
    if (msg.params.type === 'error' || msg.params.type === 'assert') problems++;
  } else if (msg.method === 'Runtime.exceptionThrown') {
    const d = msg.params.exceptionDetails;
    console.log('EXCEPTION: ' + (d.exception && d.exception.description || d.text));
    problems++;
  } else if (msg.method === 'Log.entryAdded') {
    const e = msg.params.entry;
    // Failed requests (a 404 the page expects, say) are logged as network errors: report, do not count.
    console.log('log.' + e.level + ' [' + e.source + ']: ' + e.text + (e.url ? ' ' + e.url : ''));
    if (e.level === 'error' && e.source !== 'network') problems++;
  } else if (msg.method === 'Page.javascriptDialogOpening') {
    console.log('dialog (' + msg.params.type + ', ' + (acceptDialog ? 'accepted' : 'dismissed') + '): ' + msg.params.message);
    send('Page.handleJavaScriptDialog', { accept: acceptDialog, promptText: msg.params.defaultPrompt || '' });
    acceptDialog = true;
  }
});

try {
  await send('Page.enable');
  await send('Runtime.enable');
  await send('Log.enable');
  await send('Page.navigate', { url });
  await sleep(1500);
  for (const st of steps) {
    if (st.wait) await sleep(st.wait);
    if (st.goto) { await send('Page.navigate', { url: st.goto }); await sleep(1500); }
    if (st.dialog !== undefined) acceptDialog = !!st.dialog;
    if (st.click) {
      const r = await send('Runtime.evaluate', {
        expression: '(() => { const el = document.querySelector(' + JSON.stringify(st.click) + ');' +
          ' if (!el) return "no element"; el.click(); return "clicked"; })()',
        returnByValue: true,
      });
      console.log('click ' + st.click + ': ' + r.result.value);
      await sleep(300);
    }
    if (st.eval) {
      const r = await send('Runtime.evaluate', { expression: st.eval, returnByValue: true, awaitPromise: true });
      console.log('eval ' + st.eval.slice(0, 60) + ' => ' + JSON.stringify(r.result.value !== undefined ? r.result.value : r.result.description));
    }
    if (st.screenshot) {
      const m = await send('Page.getLayoutMetrics');
      const h = Math.ceil((m.cssContentSize || m.contentSize).height);
      await send('Emulation.setDeviceMetricsOverride', { width, height: Math.max(height, h), deviceScaleFactor: 1, mobile: false });
      await sleep(400); // let the charts follow the new size
      let clip;
      if (st.element) { // only that element's box
        const r = await send('Runtime.evaluate', {
          expression: '(() => { const b = document.querySelector(' + JSON.stringify(st.element) + ').getBoundingClientRect();' +
            ' return {x: b.left + scrollX, y: b.top + scrollY, width: b.width, height: b.height}; })()',
          returnByValue: true,
        });
        clip = Object.assign({ scale: 1 }, r.result.value);
      }
      const shot = await send('Page.captureScreenshot', { format: 'png', clip });
      writeFileSync(st.screenshot, Buffer.from(shot.data, 'base64'));
      await send('Emulation.clearDeviceMetricsOverride');
      console.log('screenshot ' + st.screenshot + ' (' + width + 'x' + Math.max(height, h) + ')');
    }
  }
} finally {
  ws.close();
  cleanup();
}
console.log(problems ? problems + ' console error(s) or exception(s)' : 'no console errors');
process.exit(problems ? 1 : 0);
