// The dashboard in headless Chromium against a real `dmilab serve` (started by test_dashboard.sh with
// finished experiments, audited and swept ones among them), checked through the DOM after the page's scripts
// ran, and the figures against the API's own numbers. Prints "ok"/"FAIL" lines, writes screenshots and the
// downloaded figures into ARTIFACTS, exits 1 when a check failed.
//
//   node dashboard.mjs BASE_URL ARTIFACTS_DIR IDS.json
// IDS.json: {"kernels": id, "trained": id, "single": id, "failed": id, "spectrum": id, "audit": id, "sweep": id, ...}
import { readFileSync, readdirSync, statSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from './cdp.mjs';

const [base, artifacts, idsFile] = process.argv.slice(2);
const ids = JSON.parse(readFileSync(idsFile, 'utf8'));
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

let emptyList = false; // answer the list with no experiment, for the empty state
await page.route(/./, (url) => {
  const u = new URL(url);
  if (emptyList && u.pathname === '/api/v1/experiments') return { body: '{"experiments": [], "next_cursor": null}' };
  return null;
});
await page.allowDownloads(downloads);

async function open(hash, ready) {
  await page.goto(base + '/' + hash);
  const ok = await page.waitFor(ready, 15000);
  await sleep(250); // let the ResizeObserver settle the figures' widths
  return ok;
}

/** A wait condition: the page shows experiment `id` and its heatmap's first cell is of arm prefix `arms` (a
 *  change of the hash alone keeps the document: the last page's figures are there until the new ones are drawn). */
const auditOf = (id, arms) => `document.getElementById("detail-id").textContent === ${JSON.stringify(id)} &&
  ((document.querySelector("#fig-audit g.audit-cells rect") || { getAttribute: () => "" }).getAttribute("aria-label") || "").startsWith(${JSON.stringify(arms)})`;
/** The same for the sweep figure of experiment `id` at the viewport's width (its section shown for it). */
const sweepOf = (id) => `document.getElementById("detail-id").textContent === ${JSON.stringify(id)} && !document.getElementById("sweep-section").hidden &&
  !!document.querySelector("#fig-sweep-width svg.fig-svg") && document.querySelector("#fig-sweep-width svg.fig-svg").getBoundingClientRect().right <= document.documentElement.clientWidth`;

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

// DESIGN 2.2's verdict for each audited arm and group, written here from the table (not taken from
// web/js/symmetry.js, which the page uses): fcn is invariant under every group with a kernel or sgd, with Adam
// only under signed permutations of the coordinates (with Fashion-MNIST's one channel, local-orthogonal is a
// per-position sign flip, so only orthogonal is lost); a circular cnn-vec of stride 1 under translation, its
// kernel (= lcn's) under local-orthogonal too, its finite-width sgd (weight sharing) not under local-orthogonal;
// neither under permutation.
const T = true;
const F = false;
const DESIGN_22 = {
  'f7/fcn/sgd': { orthogonal: T, permutation: T, 'local-orthogonal': T, translation: T },
  'f7/fcn/adam': { orthogonal: F, permutation: T, 'local-orthogonal': T, translation: T },
  'f7/fcn/ntk': { orthogonal: T, permutation: T, 'local-orthogonal': T, translation: T },
  'poly/fcn/ntk': { permutation: T, 'local-orthogonal': T, translation: T },
  'poly/fcn/sgd': { permutation: T, 'local-orthogonal': T, translation: T },
  'poly/vec/ntk': { permutation: F, 'local-orthogonal': T, translation: T },
  'poly/vec/sgd': { permutation: F, 'local-orthogonal': F, translation: T },
};
// a number the page printed with `sig` significant digits against the API's
const near = (shown, v, sig) => (v === 0 ? shown === '0' : Math.abs(Number(shown) / v - 1) <= 0.51 * Math.pow(10, 1 - sig));

/**
 * The audit section of experiment `id`, open in the page, against GET .../audit cell by cell: one heatmap
 * cell per entry in its arm's row and its group's column, its verdict mark and gap, its hover text (gap,
 * seed-noise gap, method, measured verdict), the table of expectations against DESIGN_22, and the red frames
 * on exactly the cells whose measurement disagrees with DESIGN_22; with `hover` false the hover texts are not
 * checked (a phone has no pointer). Returns those disagreements.
 */
async function checkAudit(id, what, { hover = true } = {}) {
  const audit = (await getJson('/api/v1/experiments/' + id + '/audit')).audit;
  const drawn = await page.eval(`(() => {
    const svg = document.querySelector('#fig-audit svg.fig-svg');
    // positions on the screen: the marks' groups carry Plot's own offsets
    const centre = (el) => { const b = el.getBoundingClientRect(); return [b.left + b.width / 2, b.top + b.height / 2, b.width, b.height]; };
    const ticks = (dim) => Array.from(svg.querySelectorAll('g[aria-label="' + dim + '-axis tick label"] text')).map((t) => ({ text: t.textContent, at: centre(t) }));
    return {
      cells: Array.from(svg.querySelectorAll('g.audit-cells rect')).map((r) => ({ label: r.getAttribute('aria-label'), c: centre(r) })),
      // a verdict's lines are tspans: the mark and, when the cell is wide enough, the gap
      verdicts: Array.from(svg.querySelectorAll('g.audit-verdicts text')).map((t) => ({ text: Array.from(t.querySelectorAll('tspan')).map((x) => x.textContent).join('\\n') || t.textContent, at: centre(t) })),
      frames: Array.from(svg.querySelectorAll('g.audit-mismatch rect')).map(centre),
      x: ticks('x'), y: ticks('y'),
      table: Array.from(document.querySelectorAll('#audit-expected tbody td[data-group]')).map((td) => ({
        arm: td.closest('tr').querySelector('th').textContent, group: td.dataset.group, expected: td.dataset.expected, mismatch: td.classList.contains('mismatch') })),
      summary: document.querySelector('#audit-body .audit-summary').textContent,
    };
  })()`);
  check(drawn.cells.length === audit.length && drawn.verdicts.length === audit.length, what + ': one heatmap cell per entry of the audit API (' + drawn.cells.length + ' of ' + audit.length + ')');
  const close = (a, b) => Math.abs(a - b) < 2;
  const inside = (p, c) => Math.abs(p[0] - c[0]) < c[2] / 2 && Math.abs(p[1] - c[1]) < c[3] / 2;
  const bad = [];
  let placed = 0;
  let shown = 0;
  let gapsShown = 0;
  for (const a of audit) {
    const i = drawn.cells.findIndex((c) => c.label.startsWith(a.arm + ' × ' + a.group + '\n'));
    const cell = drawn.cells[i];
    if (!cell) { bad.push(a.arm + ' × ' + a.group + ': no cell'); continue; }
    // its row is its arm's tick, its column its group's (ticks abbreviate: "local-orth.")
    const row = drawn.y.find((t) => t.text === a.arm);
    const col = drawn.x.find((t) => a.group.startsWith(t.text.replace(/\.$/, '')));
    if (row && col && close(cell.c[1], row.at[1]) && close(cell.c[0], col.at[0])) placed++;
    const l = cell.label;
    const gap = (/\ngap (\S+)/.exec(l) || [])[1];
    const seed = (/\nseed-noise gap (\S+)/.exec(l) || [])[1];
    const method = (/\nmethod (\S+)/.exec(l) || [])[1];
    const measured = (/\nmeasured: ([a-z ]+)/.exec(l) || [])[1];
    const v = drawn.verdicts.filter((t) => inside(t.at, cell.c));
    const [mark, vGap] = (v.length === 1 ? v[0].text : '').split('\n');
    const ok = near(gap, a.gap, 3) && (a.seed_gap === null ? seed === undefined : near(seed, a.seed_gap, 3)) && method === a.method &&
      measured === (a.invariant ? 'invariant' : 'not invariant') && mark === (a.invariant ? '✓' : '✗') && (vGap === undefined || near(vGap, a.gap, 2));
    if (vGap !== undefined) gapsShown++;
    if (ok) shown++; else bad.push({ arm: a.arm, group: a.group, gap: a.gap, seed_gap: a.seed_gap, method: a.method, invariant: a.invariant, label: l, verdict: v.map((t) => t.text) });
  }
  check(placed === audit.length, what + ': each cell in its arm\'s row and its group\'s column (' + placed + ' of ' + audit.length + ')');
  check(shown === audit.length, what + ': each cell\'s verdict, gap, seed-noise gap and method are the API\'s (' + shown + ' of ' + audit.length + ', ' + gapsShown + ' with the gap in the cell)', bad.slice(0, 3));
  // the hover text of every cell: the pointer over its centre shows its gap and method
  let tips = 0;
  const tipBad = [];
  for (let k = 0; hover && k < drawn.cells.length; k++) {
    await page.hover('#fig-audit g.audit-cells rect:nth-child(' + (k + 1) + ')');
    const tip = await page.eval('Array.from(document.querySelectorAll("#fig-audit g[aria-label=tip] tspan")).map((t) => t.textContent.replace(/\\u200b/g, "")).join("\\n")');
    const a = audit.find((x) => drawn.cells[k].label.startsWith(x.arm + ' × ' + x.group + '\n'));
    const g = (/gap (\S+)/.exec(tip) || [])[1];
    if (a && tip.startsWith(a.arm + ' × ' + a.group + '\n') && tip.includes('\nmethod ' + a.method) && near(g, a.gap, 3) &&
      (a.seed_gap === null || tip.includes('seed-noise gap '))) tips++;
    else tipBad.push(tip);
  }
  if (hover) check(tips === audit.length, what + ': hovering each cell shows its gap and method (' + tips + ' of ' + audit.length + ')', tipBad.slice(0, 2));
  // the expectation beside it, and the disagreements framed
  const expected = drawn.table.filter((t) => DESIGN_22[t.arm] && String(DESIGN_22[t.arm][t.group]) === t.expected);
  check(expected.length === audit.length && drawn.table.length === audit.length, what + ': the table of expectations is DESIGN 2.2\'s for every cell (' + expected.length + ' of ' + audit.length + ')',
    drawn.table.filter((t) => !expected.includes(t)));
  const want = audit.filter((a) => DESIGN_22[a.arm] && a.invariant !== DESIGN_22[a.arm][a.group]).map((a) => a.arm + ' × ' + a.group).sort();
  const framed = drawn.frames.map((f) => (drawn.cells.find((c) => close(c.c[0], f[0]) && close(c.c[1], f[1])) || { label: '?' }).label.split('\n')[0]).sort();
  const marked = drawn.table.filter((t) => t.mismatch).map((t) => t.arm + ' × ' + t.group).sort();
  check(eq(framed, want) && eq(marked, want) && want.every((w) => drawn.summary.includes(w)),
    what + ': the cells measured against DESIGN 2.2 are framed in the heatmap, the table and the summary (' + (want.join('; ') || 'none') + ')', { framed, marked, summary: drawn.summary });
  return want;
}

// ---- 0. live: a running experiment on a server with a token: time left, cancel and delete via the prompt (first,
// while its units of work are the small ones: a cancel takes effect after the unit in flight) ----
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

// ---- 1. the kernel experiment at 1280 px: list, curves, axes, one repeat ----
const kres = await getJson('/api/v1/experiments/' + ids.kernels + '/results');
const arms = kres.curves.map((c) => c.arm);
const ns = kres.curves.flatMap((c) => c.n_train);
check(await open('#' + ids.kernels, '!!document.querySelector("#fig-mse svg.fig-svg")'), 'the kernel experiment renders its learning curves');
check(await page.eval(`!!document.querySelector('#exp-rows tr[data-id="${ids.kernels}"]')`), 'the list shows the kernel experiment');
check(await page.eval('document.querySelectorAll("#exp-rows tr").length') >= 4, 'the list shows every experiment');
check(await page.eval('document.getElementById("detail-name").textContent') === 'fmnist fcn kernels', 'the detail shows its name');
check(await page.eval('document.getElementById("detail-status").textContent') === 'succeeded', 'its status badge reads succeeded');
{
  const shards = await page.eval('document.getElementById("detail-shards").textContent');
  check(/^[1-9]\d* \((\d+) done, 0 running, 0 queued\)/.test(shards), 'its shards are shown, all done', shards);
}
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

// ---- 2. the trained experiment: band, training curves, checks, audit heatmap ----
check(await open('#' + ids.trained, '!!document.querySelector("#fig-train-loss svg.fig-svg") && ' + auditOf(ids.trained, 'f7/fcn/')),
  'the trained experiment renders training curves and the audit heatmap');
check(await page.eval('document.querySelectorAll("#fig-mse g.band").length') === 3 &&
  (await page.eval('document.querySelector("#fig-mse .fig-note").textContent')).includes('± one sample standard deviation (2 repeats)'), 'two repeats: a spread band per arm, captioned');
check(await page.eval('document.querySelectorAll("#fig-train-loss g.run").length') === 4, 'training curves: one line per (trained arm, n_train)');
check(await page.eval('!!document.querySelector("#checks-rows tr.check-pass") && !!document.querySelector("#checks-rows tr.check-fail")'), 'checks: one passing and one failing');
check((await page.eval('document.getElementById("checks-note").textContent')).startsWith('1 of 2 checks passed'), 'checks note: 1 of 2 checks passed');
const trainedMismatch = await checkAudit(ids.trained, 'trained audit');
check(trainedMismatch.length === 0 && (await page.eval('document.querySelector("#audit-body .audit-summary").textContent')).includes('agree with it'),
  'trained audit: on Fashion-MNIST every cell agrees with DESIGN 2.2, and the summary says so');
await page.click('#fig-mse .fig-legend [data-key="f7/fcn/adam"]');
const hidden = await page.eval('Array.from(document.querySelectorAll("#fig-mse g.curve")).map((g) => g.getAttribute("aria-description"))');
const pressed = await page.eval('document.querySelector(\'#fig-mse .fig-legend [data-key="f7/fcn/adam"]\').getAttribute("aria-pressed")');
await page.click('#fig-mse .fig-legend [data-key="f7/fcn/adam"]');
check(eq(hidden, ['f7/fcn/sgd', 'f7/fcn/ntk']) && pressed === 'false' && await page.eval('document.querySelectorAll("#fig-mse g.curve").length') === 3,
  'a legend entry hides its arm and shows it again', hidden);
await noOverflow('1280 px, trained');
await page.screenshot(join(artifacts, 'dashboard-1280-trained-full.png'), { full: true });
await page.screenshot(join(artifacts, 'dashboard-1280-audit-trained.png'), { element: '#audit-section' });

// ---- 2b. the audit on synthetic data: real cells that disagree with DESIGN 2.2 ----
check(await open('#' + ids.audit, auditOf(ids.audit, 'poly/')), 'the audited synthetic experiment renders its heatmap');
const synMismatch = await checkAudit(ids.audit, 'synthetic audit');
// cnn-vec + sgd at 4 seeds: a distributional "invariant" within its seed floor where DESIGN 2.2 says not
check(synMismatch.length > 0 && synMismatch.every((m) => m.startsWith('poly/vec/sgd × ')),
  'synthetic audit: the distributional cells of cnn-vec + sgd that read invariant below their seed floor are the disagreements (if none is left, pick another configuration for the framing)', synMismatch);
const synSummary = await page.eval('document.querySelector("#audit-body .audit-summary").textContent');
check(synSummary.indexOf('poly/vec/sgd × permutation') < synSummary.indexOf('poly/vec/sgd × local-orthogonal') && /within its seed floor \(gap [^)]*seed-noise gap [^)]*4 seeds\)/.test(synSummary) &&
  synSummary.includes('audit.seeds'), 'synthetic audit: the summary lists the disagreements in the heatmap\'s order and reads the distributional ones with their seed floor', synSummary);
await page.hover('#fig-audit g.audit-mismatch rect');
const tip = await page.eval('Array.from(document.querySelectorAll("#fig-audit g[aria-label=tip] text")).map((t) => t.textContent).join(" ")');
check(/method distributional/.test(tip) && /seed-noise gap/.test(tip) && /disagrees/.test(tip), 'hovering a framed cell shows its method, its seed-noise gap and the disagreement', tip);
await page.screenshot(join(artifacts, 'dashboard-1280-audit-hover.png'), { element: '#audit-section' });
const asvg = await downloadOf('#fig-audit button[data-format="svg"]', '.svg');
const asvgText = asvg.bytes.toString('utf8');
check(asvg.ok && asvgText.includes('disagrees with DESIGN 2.2') && asvgText.includes('gap (log scale)') && asvgText.includes('>poly/vec/sgd<'),
  'audit SVG download holds its arms, legend and colour scale');
const acsv = await downloadOf('#fig-audit button[data-format="csv"]', '.csv');
const acsvLines = acsv.bytes.toString('utf8').trim().split(/\r?\n/);
const synAudit = (await getJson('/api/v1/experiments/' + ids.audit + '/audit')).audit;
const csvCells = acsvLines.slice(1).map((l) => l.split(','));
check(acsv.ok && acsvLines[0].startsWith('arm,group,gap,seed_gap,method') && csvCells.length === synAudit.length &&
  synAudit.every((a) => csvCells.some((c) => c[0] === a.arm && c[1] === a.group && Number(c[2]) === a.gap && c[4] === a.method)),
  'audit CSV: one row per cell with the API\'s exact gap and method (' + csvCells.length + ')', acsvLines.slice(0, 3));
await noOverflow('1280 px, synthetic audit');

// ---- 3. one n_train: a dot chart, not a column of dots ----
// (a change of the hash alone keeps the document: wait for this experiment's own figure, not the last page's)
check(await open('#' + ids.single, '(document.querySelector("#fig-mse .fig-title") || {}).textContent?.includes("n_train = 200")'), 'the one-size experiment renders');
check(await page.eval('document.querySelectorAll("#fig-mse g.curve").length') === 0 && await page.eval('document.querySelectorAll("#fig-mse g.points").length') === 2 &&
  (await page.eval('document.querySelector("#fig-mse .fig-title").textContent')).includes('n_train = 200'), 'one n_train: a dot chart with one row per arm');

// ---- 4. a failed experiment says so once ----
check(await open('#' + ids.failed, '!document.getElementById("detail-error").hidden'), 'the failed experiment shows its error');
const visible = await page.eval('document.getElementById("detail-body").innerText');
const errMsg = await page.eval('document.getElementById("detail-error-text").textContent');
check(!/No results/.test(visible) && visible.split(errMsg).length === 2, 'failed: the error once, no "No results" notes', visible.slice(0, 300));

// ---- 5. a width sweep: the metric against width, the ntk arm as its infinite-width limit, against the results API ----
const wres = await getJson('/api/v1/experiments/' + ids.sweep + '/results');
const widths = [8, 32, 128, 512];
const curveOf = (arm) => wres.curves.find((c) => c.arm === arm);
/** The sweep figure as drawn: dots, bars and the limit line in data coordinates, inverted through the plot's
 *  own domains (data-x-domain, data-y-domain) and its frame (the grid lines' ends). */
const SWEEP = `(() => {
  const fig = document.getElementById('fig-sweep-width');
  const svg = fig.querySelector('svg.fig-svg');
  const [x0, x1] = fig.dataset.xDomain.split(',').map(Number);
  const [y0, y1] = fig.dataset.yDomain.split(',').map(Number);
  const logY = fig.dataset.logY === 'true';
  const gx = svg.querySelector('g[aria-label="x-grid"] line');
  const gy = svg.querySelector('g[aria-label="y-grid"] line');
  const left = Number(gy.getAttribute('x1')), right = Number(gy.getAttribute('x2'));
  const top = Number(gx.getAttribute('y1')), bottom = Number(gx.getAttribute('y2'));
  const fy = (v) => (logY ? Math.log(v) : v);
  const X = (px) => Math.exp(Math.log(x0) + (px - left) / (right - left) * (Math.log(x1) - Math.log(x0)));
  const Y = (py) => { const t = fy(y0) + (bottom - py) / (bottom - top) * (fy(y1) - fy(y0)); return logY ? Math.exp(t) : t; };
  return {
    dots: Array.from(svg.querySelectorAll('g[aria-label="dot"] circle, g[aria-label="dot"] path')).map((d) => {
      const m = /translate\\(([-\\d.e]+),([-\\d.e]+)\\)/.exec(d.getAttribute('transform') || '');
      const cx = m ? Number(m[1]) : Number(d.getAttribute('cx')), cy = m ? Number(m[2]) : Number(d.getAttribute('cy'));
      return [X(cx), Y(cy)]; }),
    bars: Array.from(svg.querySelectorAll('g[aria-label="rule"]:not(.sweep-limit) line')).map((l) => [X(Number(l.getAttribute('x1'))), Y(Number(l.getAttribute('y1'))), Y(Number(l.getAttribute('y2')))]),
    limits: Array.from(svg.querySelectorAll('g.sweep-limit line')).map((l) => Y(Number(l.getAttribute('y1')))),
    curves: Array.from(svg.querySelectorAll('g.sweep-curve')).map((g) => g.getAttribute('aria-description')),
    ticks: Array.from(svg.querySelectorAll('g[aria-label="x-axis tick label"] text')).map((t) => t.textContent),
    labels: Array.from(svg.querySelectorAll('g[aria-label="text"] text')).map((t) => t.textContent).filter((t) => t.includes('width → ∞')),
    title: fig.querySelector('.fig-title').textContent, x: [x0, x1],
  };
})()`;
const rel = (a, b) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
async function checkSweep(metric, n, where) {
  const d = await page.eval(SWEEP);
  const mean = metric + '_mean';
  const std = metric + '_std';
  const at = (arm) => { const c = curveOf(arm); const i = c ? c.n_train.indexOf(n) : -1; return i < 0 ? null : { mean: c[mean][i], std: c[std][i] }; };
  const what = where + ', sweep, ' + metric + ' at n_train ' + n;
  check(eq(d.curves, ['f7/fcn/sgd']) && d.limits.length === 1 && d.title.includes('against width (n_train = ' + n + ')'), what + ': the sgd widths as one curve and one infinite-width limit', d);
  const dots = widths.map((w) => [w, at('f7/fcn.width=' + w + '/sgd')]);
  const onDots = dots.filter(([w, r]) => r && d.dots.some(([x, y]) => rel(x, w) && rel(y, r.mean)));
  check(d.dots.length === widths.length && onDots.length === widths.length, what + ': a dot at each width\'s mean over repeats in the results (' + onDots.length + ' of ' + widths.length + ')', { drawn: d.dots, api: dots });
  const spread = dots.filter(([, r]) => r && r.std !== null);
  const onBars = spread.filter(([w, r]) => d.bars.some(([x, lo, hi]) => rel(x, w) && rel(Math.min(lo, hi), r.mean - r.std) && rel(Math.max(lo, hi), r.mean + r.std)));
  check(spread.length > 0 && onBars.length === spread.length && d.bars.length === spread.length, what + ': a bar of mean ± std at each width with a spread (' + onBars.length + ' of ' + spread.length + ')', d.bars);
  const limits = widths.map((w) => at('f7/fcn.width=' + w + '/ntk'));
  check(limits.every((l) => l && l.mean === limits[0].mean) && rel(d.limits[0], limits[0].mean),
    what + ': the dashed limit at the ntk arms\' mean (' + limits[0].mean + '; one kernel, reported under every width)', { drawn: d.limits, api: limits });
  const labelled = d.labels.length === 1 && /^ntk \(width → ∞\): \S+$/.test(d.labels[0]) && near(d.labels[0].split(': ')[1], limits[0].mean, 3);
  check(labelled, what + ': the limit line is labelled with its value (' + d.labels[0] + ')', d.labels);
  check(d.x[0] <= 8 && d.x[0] >= 8 / 1.5 && d.x[1] >= 512 && d.x[1] <= 512 * 1.5 && eq(d.ticks, widths.map(String)), what + ': the log x axis bounds the widths 8..512 and labels each', d);
}
// a sweep of regression arms: accuracy (the default metric) has no value to draw; the page must still render the rest
check(await open('#' + ids.rsweep, auditOf(ids.rsweep, 'poly/')), 'a width sweep of regression arms renders its audit (nothing stops the page)');
check(!(await page.eval('!!document.querySelector("#fig-sweep-width svg.fig-svg")')), 'a sweep with no accuracy to draw shows no accuracy-against-width figure');
check(await open('#' + ids.sweep, sweepOf(ids.sweep)), 'the swept experiment shows a metric against width');
await checkSweep('test_accuracy', 300, '1280 px');
const wcsv = await downloadOf('#fig-sweep-width button[data-format="csv"]', '.csv');
const wLines = wcsv.bytes.toString('utf8').trim().split(/\r?\n/);
const wRows = wLines.slice(1).map((l) => l.split(','));
check(wcsv.ok && wLines[0] === 'series,arm,field,value,kind,n_train,metric,mean,std' && wRows.length === widths.length + 1 &&
  widths.every((w) => wRows.some((r) => r[1] === 'f7/fcn.width=' + w + '/sgd' && Number(r[3]) === w && Number(r[7]) === curveOf(r[1]).test_accuracy_mean[1])) &&
  wRows.some((r) => r[4] === 'infinite-width limit' && Number(r[7]) === curveOf('f7/fcn.width=8/ntk').test_accuracy_mean[1]),
  'sweep CSV: a row per width and one for the limit, with the results\' means', wLines.slice(0, 3));
await noOverflow('1280 px, sweep');
await page.screenshot(join(artifacts, 'dashboard-1280-sweep.png'), { element: '#sweep-section' });
await page.eval(`(() => { for (const [id, v] of [['sweep-metric', 'test_mse'], ['sweep-n', '100']]) { const s = document.getElementById(id); s.value = v; s.dispatchEvent(new Event('change')); } })()`);
check(await page.waitFor('document.querySelector("#fig-sweep-width .fig-title").textContent.includes("n_train = 100")', 5000), 'sweep: the metric and n_train menus redraw the figure');
await sleep(250);
await checkSweep('test_mse', 100, '1280 px');
await page.screenshot(join(artifacts, 'dashboard-1280-sweep-mse.png'), { element: '#sweep-section' });

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
const curl = await page.waitFor('!document.getElementById("list-empty").hidden && /@examples\\/[^<]/.test(document.getElementById("empty-curl").textContent) && document.getElementById("empty-curl").textContent', 8000);
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
  ['#' + ids.kernels, '!!document.querySelector("#fig-mse svg.fig-svg")', 'kernels'], ['#' + ids.audit, auditOf(ids.audit, 'poly/'), 'audit'],
  ['#' + ids.sweep, sweepOf(ids.sweep), 'sweep'], ['#/submit', '!document.getElementById("cost").hidden', 'submit']]) {
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
  if (name === 'audit') {
    // the narrow heatmap (no gap in the cells, the table of expectations scrolling in its card), cell by cell
    await checkAudit(ids.audit, '390 px, synthetic audit', { hover: false });
    await page.screenshot(join(artifacts, 'dashboard-390-audit.png'), { element: '#audit-section' });
    check((await page.eval(CONTRAST)).length === 0, '390 px, synthetic audit: text contrast at WCAG AA');
  }
  if (name === 'sweep') {
    await page.eval(`(() => { for (const [id, v] of [['sweep-metric', 'test_accuracy'], ['sweep-n', '300']]) { const s = document.getElementById(id); s.value = v; s.dispatchEvent(new Event('change')); } })()`);
    await page.waitFor('document.querySelector("#fig-sweep-width .fig-title").textContent.includes("n_train = 300")', 5000);
    await sleep(250);
    await checkSweep('test_accuracy', 300, '390 px');
    await page.screenshot(join(artifacts, 'dashboard-390-sweep.png'), { element: '#sweep-section' });
  }
  if (name === 'audit' || name === 'sweep') continue;
  await page.screenshot(join(artifacts, 'dashboard-390-' + name + '-full.png'), { full: true });
}
const lowPhone = await page.eval(CONTRAST);
check(lowPhone.length === 0, 'text contrast at WCAG AA on the phone-width submit page', lowPhone.slice(0, 6));

check(page.problems.length === 0, 'no console error or exception', page.problems);
await page.close();
for (const f of readdirSync(artifacts).filter((f) => f.endsWith('.png'))) void statSync(join(artifacts, f));
console.log('dashboard: ' + passed + ' passed, ' + failed + ' failed');
process.exit(failed ? 1 : 0);
