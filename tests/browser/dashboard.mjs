// The dashboard in headless Chromium against a real `dmilab serve` (started by test_dashboard.sh with
// finished experiments), checked through the DOM after the page's scripts ran; audits and sweeps come from
// fixtures (fixtures/README.md) until the server produces them. Prints "ok"/"FAIL" lines, writes screenshots
// and the downloaded figures into ARTIFACTS, exits 1 when a check failed.
//
//   node dashboard.mjs BASE_URL FIXTURES_DIR ARTIFACTS_DIR IDS.json
// IDS.json: {"kernels": id, "trained": id, "single": id, "failed": id, "spectrum": id, ...}
import { readFileSync, readdirSync, statSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from './cdp.mjs';

const [base, fixtures, artifacts, idsFile] = process.argv.slice(2);
const ids = JSON.parse(readFileSync(idsFile, 'utf8'));
const fx = (f) => readFileSync(join(fixtures, f), 'utf8');
const downloads = join(artifacts, 'downloads');
rmSync(downloads, { recursive: true, force: true });
mkdirSync(downloads, { recursive: true });

let passed = 0;
let failed = 0;
function check(cond, msg, detail) {
  if (cond) { passed++; console.log('ok   ' + msg); } else { failed++; console.log('FAIL ' + msg + (detail !== undefined ? ': ' + JSON.stringify(detail) : '')); }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const getJson = async (path, opts) => (await fetch(base + path, opts)).json();
const page = await launch({ width: 1280, height: 800, log: (m) => console.log('  page: ' + m) });

// fixtures: the trained experiment's audit, and a whole swept experiment
const auditFixture = JSON.parse(fx('audit-trained.json'));
auditFixture.id = ids.trained;
const sweepExp = fx('sweep-experiment.json');
const sweepRes = fx('sweep-results.json');
let emptyList = false; // answer the list with no experiment, for the empty state
await page.route(/./, (url) => {
  const u = new URL(url);
  if (emptyList && u.pathname === '/api/v1/experiments') return { body: '{"experiments": [], "next_cursor": null}' };
  if (u.pathname === '/api/v1/experiments/' + ids.trained + '/audit') return { body: JSON.stringify(auditFixture) };
  if (u.pathname === '/api/v1/experiments/exp_fixture_sweep0') return { body: sweepExp };
  if (u.pathname === '/api/v1/experiments/exp_fixture_sweep0/results') return { body: sweepRes };
  if (u.pathname === '/api/v1/experiments/exp_fixture_sweep0/audit') return { body: '{"id": "exp_fixture_sweep0", "audit": []}' };
  return null;
});
await page.allowDownloads(downloads);

async function open(hash, ready) {
  await page.goto(base + '/' + hash);
  const ok = await page.waitFor(ready, 15000);
  await sleep(250); // let the ResizeObserver settle the figures' widths
  return ok;
}

async function downloadOf(selector, suffix) {
  const before = new Set(readdirSync(downloads));
  const n0 = page.downloads.length;
  await page.click(selector);
  for (let i = 0; i < 100 && page.downloads.length === n0; i++) await sleep(100);
  const guid = page.downloads[page.downloads.length - 1];
  const file = readdirSync(downloads).find((f) => !before.has(f)) || guid;
  const name = (page.downloadNames || {})[guid] || '';
  const path = join(downloads, file);
  let bytes = Buffer.alloc(0);
  try { bytes = readFileSync(path); } catch (e) { /* none */ }
  return { bytes, name, ok: page.downloads.length > n0 && name.endsWith(suffix) };
}

// the page's text contrast (WCAG 2.x): every visible element with its own text, against the first opaque
// background behind it
const CONTRAST = `(() => {
  const rgb = (s) => { const m = s.match(/rgba?\\(([^)]+)\\)/); if (!m) return null; const p = m[1].split(',').map(Number); return p; };
  const lum = (p) => { const [r, g, b] = p.slice(0, 3).map((c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const bg = (el) => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c && (c[3] === undefined || c[3] > 0.9)) return c; } return [255, 255, 255]; };
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg') || !el.offsetParent && getComputedStyle(el).position !== 'fixed') continue;
    const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const cs = getComputedStyle(el);
    if (cs.visibility === 'hidden' || Number(cs.opacity) < 0.5) continue;
    const fg = rgb(cs.color);
    const b = bg(el);
    const l1 = lum(fg), l2 = lum(b);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(cs.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5) && !el.closest('button:disabled')) bad.push(el.tagName.toLowerCase() + '.' + el.className + ' "' + el.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2));
  }
  return bad;
})()`;

// elements that stick out of the document or of their card (.panel), other than inside a scrolling box
const OVERFLOW = `(() => { const w = document.documentElement.clientWidth; const over = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const panel = el.closest('.panel');
    const limit = panel ? Math.min(w, panel.getBoundingClientRect().right) : w;
    // its own content wider than its box (text that does not wrap) counts as sticking out too
    const inner = !(el instanceof SVGElement) && getComputedStyle(el).overflowX === 'visible' && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0
      ? r.left + el.scrollWidth : r.right;
    if (Math.max(r.right, inner) <= limit + 1) continue;
    let clipped = false;
    for (let p = el.parentElement; p && p !== panel; p = p.parentElement) { const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') { clipped = p.getBoundingClientRect().right <= limit + 1; break; } }
    if (!clipped) over.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + '.' + String(el.className.baseVal !== undefined ? el.className.baseVal : el.className).slice(0, 30) + ' right=' + Math.round(r.right) + ' limit=' + Math.round(limit));
  }
  return {scroll: document.scrollingElement.scrollWidth, width: w, over: over.slice(0, 5)}; })()`;
const noOverflow = async (what) => {
  const o = await page.eval(OVERFLOW);
  check(o.scroll <= o.width && o.over.length === 0, what + ': nothing sticks out of the page or its card (document ' + o.scroll + ' px)', o);
};

// ---- 1. the kernel experiment at 1280 px: list, curves, axes, one repeat ----
const kres = await getJson('/api/v1/experiments/' + ids.kernels + '/results');
const arms = kres.curves.map((c) => c.arm);
const ns = kres.curves.flatMap((c) => c.n_train);
check(await open('#' + ids.kernels, '!!document.querySelector("#fig-mse svg.fig-svg")'), 'the kernel experiment renders its learning curves');
check(await page.eval(`!!document.querySelector('#exp-rows tr[data-id="${ids.kernels}"]')`), 'the list shows the kernel experiment');
check(await page.eval('document.querySelectorAll("#exp-rows tr").length') >= 4, 'the list shows every experiment');
check(await page.eval('document.getElementById("detail-name").textContent') === 'fmnist fcn kernels', 'the detail shows its name');
check(await page.eval('document.getElementById("detail-status").textContent') === 'succeeded', 'its status badge reads succeeded');
for (const fig of ['acc', 'mse']) {
  const curves = await page.eval(`Array.from(document.querySelectorAll('#fig-${fig} g.curve')).map((g) => g.getAttribute('aria-description'))`);
  check(curves.length === arms.length && arms.every((a) => curves.includes(a)), fig + ': one curve per arm (' + arms.join(', ') + ')', curves);
  const x = (await page.eval(`document.getElementById('fig-${fig}').dataset.xDomain`)).split(',').map(Number);
  const lo = Math.min(...ns);
  const hi = Math.max(...ns);
  const labels = await page.eval(`Array.from(document.querySelectorAll('#fig-${fig} g[aria-label="x-axis tick label"] text')).map((t) => t.textContent)`);
  check(eq(labels, Array.from(new Set(ns)).sort((a, b) => a - b).map(String)), fig + ': the x axis labels each n_train run', labels);
  check(x[0] <= lo && x[0] >= lo / 1.5 && x[1] >= hi && x[1] <= hi * 1.5, fig + ': x axis [' + x.map((v) => v.toFixed(1)).join(', ') + '] bounds n_train ' + lo + '..' + hi + ' within a margin of 1.5x', x);
}
const mses = kres.curves.flatMap((c) => c.test_mse_mean);
const y = (await page.eval('document.getElementById("fig-mse").dataset.yDomain')).split(',').map(Number);
check(y[0] <= Math.min(...mses) && y[1] >= Math.max(...mses) && (y[1] / y[0]) <= (Math.max(...mses) / Math.min(...mses)) * 1.5,
  'MSE: y axis [' + y.map((v) => v.toFixed(3)).join(', ') + '] bounds the data within a margin', y);
check(await page.eval('document.querySelectorAll("#fig-mse g.band").length') === 0 &&
  (await page.eval('document.querySelector("#fig-mse .fig-note").textContent')).includes('One repeat'), 'one repeat: no spread band, and the note says so');
check(await page.eval('document.querySelector("#audit-body .audit-empty").textContent.includes("did not ask")'), 'no audit asked: the audit section says so');
await noOverflow('1280 px, kernels');
await page.screenshot(join(artifacts, 'dashboard-1280-kernels.png'));
await page.screenshot(join(artifacts, 'dashboard-1280-kernels-full.png'), { full: true });

// figures out: SVG, PNG, CSV of the MSE figure
const svg = await downloadOf('#fig-mse button[data-format="svg"]', '.svg');
const svgText = svg.bytes.toString('utf8');
check(svg.ok && svg.bytes.length > 1000 && svgText.startsWith('<?xml') && arms.every((a) => svgText.includes('>' + a + '<')) && svgText.includes('n_train'),
  'SVG download: ' + svg.name + ', ' + svg.bytes.length + ' bytes, holds the legend (' + arms.join(', ') + ') and axis labels');
const png = await downloadOf('#fig-mse button[data-format="png"]', '.png');
const pngText = png.bytes.toString('latin1');
const sig = png.bytes.subarray(0, 8).toString('hex') === '89504e470d0a1a0a';
const w = sig ? png.bytes.readUInt32BE(16) : 0;
const h = sig ? png.bytes.readUInt32BE(20) : 0;
check(png.ok && sig && w > 400 && h > 200 && arms.every((a) => pngText.includes(a)), 'PNG download: ' + png.name + ', ' + w + 'x' + h + ', ' + png.bytes.length + ' bytes, tEXt holds the legend');
const ink = await page.eval(`(async () => { const img = new Image(); img.src = 'data:image/png;base64,${png.bytes.toString('base64')}'; await img.decode();
  const c = document.createElement('canvas'); c.width = img.width; c.height = img.height; const x = c.getContext('2d'); x.drawImage(img, 0, 0);
  const d = x.getImageData(0, Math.floor(img.height * 0.75), img.width, Math.floor(img.height * 0.25)).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] < 600) n++; return n; })()`);
check(ink > 500, 'PNG: the legend rows at the bottom are drawn (' + ink + ' dark pixels)');
const csv = await downloadOf('#fig-mse button[data-format="csv"]', '.csv');
const csvLines = csv.bytes.toString('utf8').trim().split(/\r?\n/);
check(csv.ok && csvLines[0].startsWith('series,arm,n_train,metric,mean') && csvLines.length === 1 + ns.length, 'CSV download: a header and one row per drawn mean (' + (csvLines.length - 1) + ')');

check(await page.eval('document.getElementById("spectrum-section").hidden'), 'no spectrum asked: no spectrum section');

// ---- 1b. the spectral readout: eigenvalue decay, cumulative power, predicted beside measured ----
const pspec = await getJson('/api/v1/experiments/' + ids.spectrum + '/spectrum');
const pres = await getJson('/api/v1/experiments/' + ids.spectrum + '/results');
check(await open('#' + ids.spectrum, '!!document.querySelector("#fig-spectrum-predicted svg.fig-svg")'), 'the spectrum experiment renders its spectrum figures');
check(!(await page.eval('document.getElementById("spectrum-section").hidden')), 'the spectrum section is shown');
for (const f of ['decay', 'cumulative']) {
  const lines = await page.eval(`Array.from(document.querySelectorAll('#fig-spectrum-${f} g.series')).map((g) => g.getAttribute('aria-description'))`);
  check(eq(lines, pspec.spectra.map((s) => s.arm)), f + ': one line per kernel arm', lines);
  const x = (await page.eval(`document.getElementById('fig-spectrum-${f}').dataset.xDomain`)).split(',').map(Number);
  check(x[0] <= 1 && x[0] > 0.5 && x[1] >= 400 && x[1] <= 600, f + ': x axis [' + x.map((v) => v.toFixed(1)).join(', ') + '] spans the modes 1..400 (log)', x);
}
const cy = (await page.eval('document.getElementById("fig-spectrum-cumulative").dataset.yDomain')).split(',').map(Number);
check(cy[0] >= 0 && cy[1] <= 1, 'cumulative power: y axis within [0, 1]', cy);
const predLines = await page.eval(`Array.from(document.querySelectorAll('#fig-spectrum-predicted g.series')).map((g) => g.getAttribute('aria-description'))`);
check(eq(predLines, pspec.spectra.flatMap((s) => [s.arm + ' · measured', s.arm + ' · predicted'])), 'predicted and measured: two lines per kernel arm', predLines);
const note = await page.eval('document.getElementById("spectrum-note").textContent');
check(pspec.spectra.every((s) => note.includes(s.arm + ': N = 400, alignment')), 'the note gives each arm\'s N and alignment', note);
const pcsv = await downloadOf('#fig-spectrum-predicted button[data-format="csv"]', '.csv');
const pLines = pcsv.bytes.toString('utf8').trim().split(/\r?\n/);
const want = pres.curves.reduce((k, c) => k + c.predicted_test_mse.length + c.test_mse_mean.length, 0);
check(pcsv.ok && pLines[0] === 'arm,kind,n_train,test_mse' && pLines.length === 1 + want, 'predicted CSV: a row per measured and predicted MSE (' + (pLines.length - 1) + ' of ' + want + ')', pLines.slice(0, 3));
const firstPred = pLines.find((l) => l.includes(',predicted,50,'));
const c0 = pres.curves.find((c) => firstPred && firstPred.startsWith(c.arm + ','));
check(c0 && Number(firstPred.split(',')[3]) === c0.predicted_test_mse[0], 'the CSV holds the results\' predicted_test_mse', firstPred);
check(await page.eval('document.getElementById("spectrum-link").href.endsWith("/spectrum")'), 'a link to the spectrum JSON');
await noOverflow('1280 px, spectrum');
await page.screenshot(join(artifacts, 'dashboard-1280-spectrum.png'), { element: '#spectrum-section' });

// ---- 2. the trained experiment: band, training curves, checks, audit heatmap from the fixture ----
check(await open('#' + ids.trained, '!!document.querySelector("#fig-train-loss svg.fig-svg") && !!document.querySelector("#fig-audit svg.fig-svg")'),
  'the trained experiment renders training curves and the audit heatmap');
check(await page.eval('document.querySelectorAll("#fig-mse g.band").length') === 3 &&
  (await page.eval('document.querySelector("#fig-mse .fig-note").textContent')).includes('± one sample standard deviation (2 repeats)'), 'two repeats: a spread band per arm, captioned');
check(await page.eval('document.querySelectorAll("#fig-train-loss g.run").length') === 4, 'training curves: one line per (trained arm, n_train)');
check(await page.eval('!!document.querySelector("#checks-rows tr.check-pass") && !!document.querySelector("#checks-rows tr.check-fail")'), 'checks: one passing and one failing');
check((await page.eval('document.getElementById("checks-note").textContent')).startsWith('1 of 2 checks passed'), 'checks note: 1 of 2 checks passed');
const cells = await page.eval(`Array.from(document.querySelectorAll('#fig-audit g.audit-cells rect')).map((r) => r.getAttribute('aria-label'))`);
const verdicts = await page.eval(`Array.from(document.querySelectorAll('#fig-audit g.audit-verdicts text')).map((t) => t.textContent)`);
check(cells.length === auditFixture.audit.length && verdicts.length === cells.length, 'heatmap: one cell per audit entry (' + cells.length + ')');
let agree = 0;
for (const a of auditFixture.audit) {
  const i = cells.findIndex((t) => t.startsWith(a.arm + ' × ' + a.group + '\n'));
  const t = cells[i] || '';
  if (i >= 0 && t.includes('method ' + a.method) && t.includes('measured: ' + (a.invariant ? 'invariant' : 'not invariant')) &&
    verdicts[i].startsWith(a.invariant ? '✓' : '✗')) agree++;
}
check(agree === auditFixture.audit.length, 'heatmap: each cell shows its verdict and, on hover, its method and gap (' + agree + ' of ' + auditFixture.audit.length + ')');
const mism = await page.eval('Array.from(document.querySelectorAll("#audit-expected td.mismatch")).map((td) => td.closest("tr").querySelector("th").textContent + " " + td.dataset.group)');
check(mism.length === 1 && mism[0] === 'f7/fcn/adam translation' && await page.eval('document.querySelectorAll("#fig-audit g.audit-mismatch rect").length') === 1,
  'the one cell disagreeing with DESIGN 2.2 (fcn + adam under translation) is framed in the heatmap and the table', mism);
check(await page.eval('document.querySelector("#audit-expected tr:nth-child(2) td").dataset.expected') === 'false', 'DESIGN 2.2: fcn + adam is expected not invariant under orthogonal');
await page.click('#fig-mse .fig-legend [data-key="f7/fcn/adam"]');
const hidden = await page.eval('Array.from(document.querySelectorAll("#fig-mse g.curve")).map((g) => g.getAttribute("aria-description"))');
const pressed = await page.eval('document.querySelector(\'#fig-mse .fig-legend [data-key="f7/fcn/adam"]\').getAttribute("aria-pressed")');
await page.click('#fig-mse .fig-legend [data-key="f7/fcn/adam"]');
check(eq(hidden, ['f7/fcn/sgd', 'f7/fcn/ntk']) && pressed === 'false' && await page.eval('document.querySelectorAll("#fig-mse g.curve").length') === 3,
  'a legend entry hides its arm and shows it again', hidden);
await noOverflow('1280 px, trained');
await page.screenshot(join(artifacts, 'dashboard-1280-trained-full.png'), { full: true });
await page.hover('#fig-audit g.audit-mismatch rect');
const tip = await page.eval('Array.from(document.querySelectorAll("#fig-audit g[aria-label=tip] text")).map((t) => t.textContent).join(" ")');
check(/method distributional/.test(tip) && /seed-noise gap/.test(tip) && /disagrees/.test(tip), 'hovering a heatmap cell shows its method and gaps', tip);
await page.screenshot(join(artifacts, 'dashboard-1280-audit-hover.png'), { element: '#audit-section' });
const asvg = await downloadOf('#fig-audit button[data-format="svg"]', '.svg');
check(asvg.ok && asvg.bytes.toString('utf8').includes('disagrees with DESIGN 2.2') && asvg.bytes.toString('utf8').includes('gap (log scale)'), 'audit SVG download holds its legend and colour scale');

// ---- 3. one n_train: a dot chart, not a column of dots ----
check(await open('#' + ids.single, '!!document.querySelector("#fig-mse svg.fig-svg")'), 'the one-size experiment renders');
check(await page.eval('document.querySelectorAll("#fig-mse g.curve").length') === 0 && await page.eval('document.querySelectorAll("#fig-mse g.points").length') === 2 &&
  (await page.eval('document.querySelector("#fig-mse .fig-title").textContent')).includes('n_train = 200'), 'one n_train: a dot chart with one row per arm');

// ---- 4. a failed experiment says so once ----
check(await open('#' + ids.failed, '!document.getElementById("detail-error").hidden'), 'the failed experiment shows its error');
const visible = await page.eval('document.getElementById("detail-body").innerText');
const errMsg = await page.eval('document.getElementById("detail-error-text").textContent');
check(!/No results/.test(visible) && visible.split(errMsg).length === 2, 'failed: the error once, no "No results" notes', visible.slice(0, 300));

// ---- 5. a sweep (fixture): metric against width with the infinite-width limit ----
check(await open('#exp_fixture_sweep0', '!!document.querySelector("#fig-sweep-width svg.fig-svg")'), 'the swept experiment (fixture) shows a metric against width');
check(await page.eval('document.querySelectorAll("#fig-sweep-width g.sweep-curve").length') === 1 && await page.eval('document.querySelectorAll("#fig-sweep-width g.sweep-limit").length') === 1,
  'sweep: the sgd widths as one curve, the ntk arms as its infinite-width limit');
const sx = (await page.eval('document.getElementById("fig-sweep-width").dataset.xDomain')).split(',').map(Number);
check(sx[0] <= 16 && sx[0] >= 16 / 1.5 && sx[1] >= 1024 && sx[1] <= 1024 * 1.5, 'sweep: x axis bounds the widths 16..1024', sx);
const sweepTicks = await page.eval(`Array.from(document.querySelectorAll('#fig-sweep-width g[aria-label="x-axis tick label"] text')).map((t) => t.textContent)`);
check(eq(sweepTicks, ['16', '64', '256', '1024']), 'sweep: every width is labelled on the log axis', sweepTicks);
await page.screenshot(join(artifacts, 'dashboard-1280-sweep.png'), { element: '#sweep-section' });

// ---- 6. the submit page: field error of a bad spec, cost of a good one, submit, clone ----
check(await open('#/submit', 'document.getElementById("spec-editor").value.length > 50 && document.getElementById("cost").hidden === false'), 'submit page: prefilled from an example and estimated');
const setSpec = (o) => page.eval(`(() => { const e = document.getElementById('spec-editor'); e.value = ${JSON.stringify(JSON.stringify(o, null, 2))}; e.dispatchEvent(new Event('input')); return true; })()`);
const bad = { name: 'bad depth', data: { source: 'fashion-mnist', resize: 4, n_train: [50], n_test: 50 }, models: [{ arch: 'fcn' }, { arch: 'fcn', depth: -3 }], inference: { method: 'ntk' } };
const badReply = await getJson('/api/v1/experiments?dry_run=true', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(bad) });
await setSpec(bad);
const field = await page.waitFor('!document.getElementById("spec-error").hidden && document.getElementById("spec-error-field") && document.getElementById("spec-error-field").textContent', 8000);
const marked = await page.eval('(document.querySelector("#spec-error-context mark") || {}).textContent || ""');
check(badReply.error && field === badReply.error.field && /depth/.test(marked) && await page.eval('document.getElementById("submit-button").disabled'),
  'bad spec: the error at the server\'s field ' + (badReply.error && badReply.error.field) + ' (marked: ' + marked + '), Submit disabled', { field, marked });
await noOverflow('1280 px, submit with an error');
await page.screenshot(join(artifacts, 'dashboard-1280-submit-error.png'));
const good = { name: 'browser test: submitted from the page', data: { source: 'fashion-mnist', resize: 4, subset: 'head', n_train: [20], n_test: 20 }, models: { arch: 'fcn' }, inference: { method: 'nngp' } };
const goodReply = await getJson('/api/v1/experiments?dry_run=true', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(good) });
await setSpec(good);
await page.waitFor('document.getElementById("spec-error").hidden && !document.getElementById("cost").hidden && !document.getElementById("submit-button").disabled', 8000);
const cost = await page.eval('document.getElementById("cost").innerText');
check(/points\s+1\b/i.test(cost) && goodReply.cost.points === 1 && /estimated time/i.test(cost) && /memory/i.test(cost), 'good spec: the dry-run cost (points, time, memory) before submitting', cost);
await page.click('#submit-button');
const newId = await page.waitFor('location.hash.startsWith("#exp_") && document.getElementById("detail-name").textContent === "browser test: submitted from the page" && location.hash.slice(1)', 10000);
check(!!newId, 'Submit queues it and opens its page (' + newId + ')');
check(await open('#/submit?from=' + ids.trained, 'document.getElementById("spec-editor").value.includes("browser test: trained fcn")'), 'clone and edit: the editor holds the experiment\'s spec');

// ---- 7. compare and find ----
check(await open('#/compare?ids=' + ids.kernels + ',' + ids.trained, '!!document.querySelector("#fig-cmp-mse svg.fig-svg")'), 'compare page renders');
check(await page.eval('document.querySelectorAll("#fig-cmp-mse g.curve").length') === 5, 'compare: the chosen arms of both experiments on one plot (2 + 3)');
await noOverflow('1280 px, compare');
await page.eval(`location.hash = '#/compare?ids=${ids.kernels},${ids.single}'`);
check(await page.waitFor(`document.querySelectorAll('#compare-arms input:checked').length === 4 && document.querySelectorAll('#fig-cmp-mse g.points').length === 4`, 8000),
  'compare: another pick of experiments chooses their arms anew');
await page.screenshot(join(artifacts, 'dashboard-1280-compare.png'));
await open('', 'document.querySelectorAll("#exp-rows tr").length >= 4');
await page.eval('(() => { const q = document.getElementById("filter-q"); q.value = "trained"; q.dispatchEvent(new Event("input")); })()');
check(await page.waitFor(`document.querySelectorAll('#exp-rows tr').length === 1 && !!document.querySelector('#exp-rows tr[data-id="${ids.trained}"]')`, 5000), 'the name filter leaves the matching experiment');
await page.eval('(() => { const q = document.getElementById("filter-q"); q.value = ""; q.dispatchEvent(new Event("input")); })()');
await page.waitFor('document.querySelectorAll("#exp-rows tr").length >= 4', 5000);

// ---- 8. the empty state names a real example file and this server's address ----
emptyList = true;
await page.goto(base + '/?empty');
const curl = await page.waitFor('!document.getElementById("list-empty").hidden && /examples\\//.test(document.getElementById("empty-curl").textContent) && document.getElementById("empty-curl").textContent', 8000);
const exFile = curl && (curl.match(/-d @(examples\/[^ ]+\.json)/) || [])[1];
check(!!exFile && curl.includes(base + '/api/v1/experiments') && (await fetch(base + '/' + exFile)).status === 200,
  'empty list: the curl line names a file the server serves (' + exFile + ') and its own address', curl);
await noOverflow('1280 px, empty list');
await page.screenshot(join(artifacts, 'dashboard-1280-empty.png'));
emptyList = false;

// ---- 9. keyboard, contrast, 390 px ----
await open('#' + ids.trained, '!!document.querySelector("#fig-mse svg.fig-svg")');
await page.eval('document.getElementById("status-filter").focus()');
let onRow = false;
for (let i = 0; i < 8 && !onRow; i++) { await page.key('Tab'); onRow = await page.eval('document.activeElement.classList.contains("exp-row")'); }
const focus = await page.eval('(() => { const r = document.activeElement; const s = getComputedStyle(r); return r.classList.contains("exp-row") && s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2; })()');
check(focus, 'Tab reaches the rows, and the focused row shows an outline');
await page.key('ArrowDown');
const second = await page.waitFor('document.activeElement === document.querySelectorAll("#exp-rows tr")[1]', 3000);
await page.key('Enter');
check(second && await page.waitFor('location.hash === "#" + document.activeElement.dataset.id', 3000), 'arrow keys move between rows and Enter opens one');
await open('#' + ids.trained, '!!document.querySelector("#fig-mse svg.fig-svg")');
await page.click('#skip-link');
check(await page.eval('document.activeElement.id === "detail" && location.hash === "#' + ids.trained + '"'), 'the skip link moves the focus to the details and keeps the address');
const low = await page.eval(CONTRAST);
check(low.length === 0, 'text contrast at WCAG AA on the experiment page', low.slice(0, 6));
await page.setViewport(390, 844);
for (const [hash, ready, name] of [['#' + ids.trained, '!!document.querySelector("#fig-mse svg.fig-svg")', 'trained'],
  ['#' + ids.kernels, '!!document.querySelector("#fig-mse svg.fig-svg")', 'kernels'], ['#/submit', '!document.getElementById("cost").hidden', 'submit']]) {
  await open(hash, ready);
  await sleep(300);
  await noOverflow('390 px, ' + name);
  if (name !== 'submit') {
    check(await page.eval('document.getElementById("detail").getBoundingClientRect().top < document.getElementById("experiments").getBoundingClientRect().top && document.getElementById("detail").getBoundingClientRect().top < 200'),
      '390 px, ' + name + ': the experiment comes first');
    check(await page.eval('(() => { const r = document.getElementById("detail-id").getClientRects(); return r.length === 1; })()'), '390 px, ' + name + ': its id on one line');
    check(await page.eval('Array.from(document.querySelectorAll(".fig svg.fig-svg")).every((s) => s.getBoundingClientRect().right <= s.closest(".panel").getBoundingClientRect().right)'), '390 px, ' + name + ': figures inside the card');
  }
  await page.screenshot(join(artifacts, 'dashboard-390-' + name + '.png'));
  if (name === 'trained') {
    for (const sec of ['audit', 'checks', 'curves']) await page.screenshot(join(artifacts, 'dashboard-390-trained-' + sec + '.png'), { element: '#' + sec + '-section' });
  }
  await page.screenshot(join(artifacts, 'dashboard-390-' + name + '-full.png'), { full: true });
}
const lowPhone = await page.eval(CONTRAST);
check(lowPhone.length === 0, 'text contrast at WCAG AA on the phone-width submit page', lowPhone.slice(0, 6));

// ---- 10. live: a running experiment on a server with a token: time left, cancel and delete via the prompt ----
await page.setViewport(1280, 800);
const tb = ids.token_base;
await page.goto(tb + '/#' + ids.long);
const eta = await page.waitFor('document.getElementById("detail-status").textContent === "running" && document.getElementById("eta-label").textContent === "Time left" && /≈/.test(document.getElementById("detail-eta").textContent) && document.getElementById("detail-eta").textContent', 20000);
check(!!eta, 'running: progress and time left (' + eta + ')');
const p1 = await page.eval('document.querySelector("#detail-progress progress").value');
await page.waitFor('document.querySelector("#detail-progress progress").value > ' + p1, 12000);
check(await page.eval('document.querySelector("#detail-progress progress").value') > p1, 'running: the progress moves without a reload');
await page.screenshot(join(artifacts, 'dashboard-1280-running.png'));
page.acceptDialog = true;
await page.click('#cancel-button');
check(await page.waitFor('document.getElementById("token-dialog").open', 5000), 'cancel without a token opens the token dialog');
await page.eval(`(() => { document.getElementById('token-input').value = ${JSON.stringify(ids.token)};
  document.getElementById('token-form').requestSubmit(document.querySelector('#token-form [type=submit]')); })()`);
check(await page.waitFor('document.getElementById("detail-status").textContent === "cancelled"', 20000), 'with the token the cancel goes through and the page shows cancelled');
page.acceptDialog = true;
await page.click('#delete-button');
check(await page.waitFor('document.getElementById("detail-missing").textContent.startsWith("Deleted the experiment")', 8000) &&
  (await fetch(tb + '/api/v1/experiments/' + ids.long)).status === 404, 'delete with the stored token removes it');

check(page.problems.length === 0, 'no console error or exception', page.problems);
await page.close();
for (const f of readdirSync(artifacts).filter((f) => f.endsWith('.png'))) void statSync(join(artifacts, f));
console.log('dashboard: ' + passed + ' passed, ' + failed + ' failed');
process.exit(failed ? 1 : 0);
