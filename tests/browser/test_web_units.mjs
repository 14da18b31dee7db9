// Unit tests of the dashboard's pure modules (web/js/), run by Node without a browser: DESIGN 2.2's symmetry
// table row by row, axis domains and ticks, the rows and CSV a figure draws, sweep names and their
// infinite-width limits, field paths located in a spec's text, the grid encoding and its contrast, the time
// left, and the PNG text chunk. Prints one line per check; exits 1 when one fails.
globalThis.document = { baseURI: 'http://127.0.0.1/' }; // api.js resolves its base at import
const web = new URL('../../web/js/', import.meta.url);
const { expectedVerdict, armTraits, GROUPS } = await import(new URL('symmetry.js', web));
const { curveRows, logDomain, linDomain, logTicks, logAxisTicks, toCSV } = await import(new URL('series.js', web));
const { parseSwept, findSweeps } = await import(new URL('sweep.js', web));
const { locate, splitPath } = await import(new URL('jsonpath.js', web));
const { gridStyles, contrast, HUES } = await import(new URL('encoding.js', web));
const { timeLeft } = await import(new URL('live.js', web));
const { withTextChunks } = await import(new URL('export.js', web));
const { modeRows, predictionRows, modesFor } = await import(new URL('spectrum.js', web));

let passed = 0;
let failed = 0;
function check(cond, msg, detail) {
  if (cond) { passed++; console.log('ok   ' + msg); } else { failed++; console.log('FAIL ' + msg + (detail !== undefined ? ': ' + JSON.stringify(detail) : '')); }
}
const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// ---- DESIGN 2.2, row by row: [arch, method, C, {group: invariant}] with circular padding, stride 1 ----
const T = true, F = false;
const rows = [
  ['fcn', 'ntk', 1, [T, T, T, T, T, T]], ['fcn', 'sgd', 3, [T, T, T, T, T, T]], ['fcn', 'gd', 3, [T, T, T, T, T, T]],
  ['fcn', 'adam', 3, [F, T, F, F, T, T]], ['fcn', 'adam', 1, [F, T, T, T, T, T]],
  ['lcn', 'nngp', 3, [F, F, T, T, T, F]], ['lcn', 'sgd', 1, [F, F, T, T, T, F]],
  ['cnn-vec', 'ntk', 3, [F, F, T, T, T, F]], ['cnn-vec', 'sgd', 3, [F, F, F, T, T, F]], ['cnn-vec', 'gd', 1, [F, F, F, T, T, F]],
  ['cnn-gap', 'ntk', 3, [F, F, F, T, T, F]], ['cnn-gap', 'sgd', 1, [F, F, F, T, T, F]],
  ['lcn', 'adam', 3, [F, F, F, F, T, F]], ['lcn', 'adam', 1, [F, F, T, T, T, F]],
  ['cnn-gap', 'adam', 3, [F, F, F, F, T, F]], ['cnn-vec', 'adam', 1, [F, F, F, T, T, F]],
];
for (const [arch, method, C, want] of rows) {
  const got = GROUPS.map((g) => expectedVerdict({ arch, method, channels: C, padding: 'circular', stride: [1, 1] }, g).invariant);
  check(eq(got, want), 'DESIGN 2.2: ' + arch + ' + ' + method + ', C = ' + C + ' (' + GROUPS.map((g, i) => g + (want[i] ? ' ✓' : ' ✗')).join(', ') + ')', got);
}
check(expectedVerdict({ arch: 'cnn-gap', method: 'ntk', channels: 1, padding: 'same', stride: 1 }, 'translation').invariant === false,
  'translation needs circular padding: cnn-gap with same padding is expected not invariant');
check(expectedVerdict({ arch: 'cnn-gap', method: 'ntk', channels: 1, padding: 'circular', stride: [2, 2] }, 'translation').invariant === false,
  'translation needs stride 1');
check(expectedVerdict({ arch: 'fcn', method: 'sgd', channels: null }, 'translation').invariant === true, 'fcn: translation is a permutation, whatever the padding');
check(expectedVerdict({ arch: 'fcn', method: 'adam', channels: null }, 'local-orthogonal').invariant === null &&
  expectedVerdict({ arch: 'fcn', method: 'sgd', channels: null }, 'local-orthogonal').invariant === true, 'an unknown C: no verdict where C decides, one where it does not');
check(expectedVerdict({ arch: undefined, method: 'ntk', channels: 1 }, 'orthogonal').invariant === null, 'a custom layer list: no verdict');
const spec = { data: [{ name: 'syn', source: 'sphere', shape: [8, 8, 3] }, { name: 'f', source: 'fashion-mnist' }],
  models: [{ name: 'gap', arch: 'cnn-gap', padding: 'circular', stride: [1, 1] }, { name: 'own', layers: [] }], inference: [{ name: 'k', method: 'ntk' }] };
check(eq(armTraits(spec, 'syn/gap/k'), { arch: 'cnn-gap', padding: 'circular', stride: [1, 1], method: 'ntk', channels: 3 }) &&
  armTraits(spec, 'f/own/k').channels === 1 && armTraits(spec, 'f/own/k').arch === undefined, 'arm traits from the resolved spec (C from shape or source)');

// ---- what a learning-curve figure draws ----
const curves = [{ arm: 'd/m/i', n_train: [100, 200, 1000], test_mse_mean: [0.5, 0.4, 0.3], test_mse_std: [0.01, 0, 0.02],
  local_exponent: [-0.32, -0.18] }];
const one = curveRows(curves, 'test_mse', [{ arm: 'd/m/i', n_train: 100 }, { arm: 'd/m/i', n_train: 200 }, { arm: 'd/m/i', n_train: 1000 }], true);
check(one.length === 3 && one.every((r) => r.std === null && r.repeats === 1), 'one repeat: no spread, whatever *_std says');
const pts2 = [100, 100, 200, 200, 1000, 1000].map((n) => ({ arm: 'd/m/i', n_train: n }));
const two = curveRows(curves, 'test_mse', pts2, true);
check(two[0].std === 0.01 && two[0].lo === 0.49 && two[2].hi === 0.32 && two[0].exponent === null && two[1].exponent === -0.32,
  'two repeats: the spread, mean ± std, and the local exponent from the previous size');
const xd = logDomain([100, 200, 1000], 0.04, 0.03);
check(xd[0] < 100 && xd[0] > 100 / 1.2 && xd[1] > 1000 && xd[1] < 1200, 'log domain of 100..1000 hugs the data', xd);
check(eq(linDomain([0.7, 0.8], 0.1, 0, [0, 1]).map((v) => +v.toFixed(3)), [0.69, 0.81]) && linDomain([0.995, 1], 0.5, 0, [0, 1])[1] === 1,
  'linear domain: padded, clipped to [0, 1]');
check(eq(logTicks([100, 110, 200, 1000], [90, 1100], 300), [100, 200, 1000]), 'log ticks at the sizes run, thinned where labels collide');
const yt = logAxisTicks([0.287, 0.49]);
check(yt.length >= 3 && yt.every((v) => v >= 0.287 && v <= 0.49), 'log y ticks inside a narrow domain', yt);
check(eq(logAxisTicks([1e-30, 1e-2]).length <= 10, true) && logAxisTicks([0.01, 10]).includes(0.05), 'log y ticks: 1-2-5 over few decades, powers of ten over many');
check(toCSV([{ key: 'a' }, { key: 'b', label: 'b, quoted' }], [{ a: 'x"y', b: 1e-30 }, { a: null, b: NaN }]) === 'a,"b, quoted"\r\n"x""y",1e-30\r\n,\r\n',
  'CSV: RFC 4180 quoting, empty for missing and non-finite values');

// ---- sweeps ----
check(eq(parseSwept('fcn.width=256'), { base: 'fcn', fields: { width: 256 } }) &&
  eq(parseSwept('ntk.ridge=1e-06.depth=2'), { base: 'ntk', fields: { ridge: 1e-6, depth: 2 } }) &&
  eq(parseSwept('fcn.v2'), { base: 'fcn.v2', fields: {} }) && eq(parseSwept('sgd.schedule=cosine').fields, { schedule: 'cosine' }),
  'swept names: fields and values parsed, a dotted name without "=" left alone');
const arms = ['d/fcn.width=64/sgd', 'd/fcn.width=256/sgd', 'd/fcn.width=64/ntk', 'd/fcn.width=256/ntk', 'd/fcn/k.ridge=0.01', 'd/fcn/k.ridge=1'];
const methods = { sgd: 'sgd', ntk: 'ntk', 'k.ridge=0.01': 'nngp', 'k.ridge=1': 'nngp' };
const sw = findSweeps(arms, (i) => methods[i] || i);
const width = sw.find((s) => s.field === 'width');
const ridge = sw.find((s) => s.field === 'ridge');
check(sw.length === 2 && eq(width.arms.map((a) => a.value), [64, 256]) && width.limits.length === 3 && width.limits[0].inference === 'ntk' &&
  eq(width.limits[0].arms, ['d/fcn.width=64/ntk', 'd/fcn.width=256/ntk']) && eq(width.limits.slice(1).map((l) => l.arms), [['d/fcn/k.ridge=0.01'], ['d/fcn/k.ridge=1']]),
  'width sweep: the sgd arms; each kernel inference (ntk, nngp at two ridges) one infinite-width limit', width.limits);
check(ridge && eq(ridge.arms.map((a) => a.value), [0.01, 1]) && ridge.limits.length === 0, 'ridge sweep of a kernel arm: a plain sweep');

// ---- field paths in the typed text ----
const text = '{\n "name": "x",\n "models": [{"arch": "fcn"}, {"arch": "lcn", "filter": [3, 0]}],\n "data": {"n_train": [10]}\n}';
const at = (p) => { const s = locate(text, p); return s && text.slice(s.start, s.end) + (s.found ? '' : ' (missing)'); };
check(eq(splitPath('models[1].filter[0]'), ['models', 1, 'filter', 0]), 'field paths split into keys and indices');
check(at('models[1].filter[1]') === '0' && at('models[1].filter') === '"filter": [3, 0]' && at('data[0].n_train') === '"n_train": [10]' &&
  at('data.n_train[0]') === '10', 'located: list items, members, one object standing for a list of one');
check(at('models[1].width') === '{"arch": "lcn", "filter": [3, 0]} (missing)' && locate('{"a": ', 'a') === null, 'a missing member points at its parent; broken JSON locates nothing');

// ---- encoding ----
const grid = [];
for (const d of ['natural', 'shuffled', 'rotated']) for (const m of ['fcn', 'lcn', 'gap']) for (const i of ['ntk', 'sgd', 'adam']) grid.push(d + '/' + m + '/' + i);
const st = gridStyles(grid);
const key = (a) => { const s = st.get(a); return s.color + s.dash + s.symbol; };
check(new Set(grid.map(key)).size === grid.length, 'a 3x3x3 grid: every arm styled differently');
check(st.get('natural/fcn/ntk').hue === st.get('shuffled/fcn/sgd').hue && st.get('natural/fcn/ntk').hue !== st.get('natural/lcn/ntk').hue &&
  st.get('natural/fcn/ntk').dash === st.get('natural/gap/adam').dash && st.get('natural/fcn/ntk').dash !== st.get('shuffled/fcn/ntk').dash &&
  st.get('natural/fcn/ntk').color !== st.get('natural/fcn/sgd').color, 'hue per model, dash per data variant, shade per inference');
const c5 = HUES.slice(0, 5).map((h) => contrast(h, '#ffffff'));
check(c5.every((c) => c >= 3), 'the first five hues have at least 3:1 contrast on white (WCAG 1.4.11)', c5.map((c) => c.toFixed(2)));

// ---- time left ----
check(eq(timeLeft(0, 5, 60), { seconds: 55, basis: 'estimate' }) && eq(timeLeft(0.5, 10, null), { seconds: 10, basis: 'rate' }) &&
  timeLeft(0.5, 10, 30).seconds === 15 && timeLeft(0, 0, null) === null, 'time left: the estimate, the measured rate, and both weighted by progress');

// ---- PNG tEXt ----
const png = new Uint8Array(8 + 25 + 12); // signature, IHDR, IEND (contents irrelevant here)
const out = withTextChunks(png, { Title: 'abc' });
const chunk = Buffer.from(out.subarray(33, 33 + 12 + 9));
check(chunk.readUInt32BE(0) === 9 && chunk.toString('latin1', 4, 8) === 'tEXt' && chunk.toString('latin1', 8, 17) === 'Title\0abc' &&
  chunk.readUInt32BE(17) === 0xfc9a79ed /* zlib's crc32 of 'tEXtTitle\0abc' */ && out.length === png.length + 21, 'PNG tEXt chunk after IHDR with its CRC-32');

// ---- the spectral readout's rows ----
const spx = [{ arm: 'd/m/ntk', modes: { mode: [1, 2, 4], eigenvalue: [0.5, 0.1, -1e-17], cumulative: [0.6, 0.95, 1] } },
  { arm: 'd/m/nngp', modes: { mode: [1], eigenvalue: [null], cumulative: [1] } }, null];
check(eq(modeRows(spx, 'eigenvalue', true), [{ arm: 'd/m/ntk', mode: 1, value: 0.5 }, { arm: 'd/m/ntk', mode: 2, value: 0.1 }]),
  'spectrum: eigenvalues on a log axis drop rounding-level negatives and nulls');
check(modeRows(spx, 'cumulative', false).length === 4, 'spectrum: the cumulative power keeps every finite value');
check(modesFor(spx[0], 0.9) === 2 && modesFor(spx[0], 1) === 4 && modesFor(spx[1], 0.5) === 1 && modesFor(null, 0.5) === null,
  'spectrum: the modes holding a fraction of the target are read at the kept mode numbers');
const pcs = [{ arm: 'a', n_train: [10, 20], test_mse_mean: [0.5, 0.4], predicted_test_mse: [0.45, null] }, { arm: 'b', n_train: [10], test_mse_mean: [1] }];
check(eq(predictionRows(pcs), [{ arm: 'a', kind: 'measured', n: 10, value: 0.5 }, { arm: 'a', kind: 'predicted', n: 10, value: 0.45 },
  { arm: 'a', kind: 'measured', n: 20, value: 0.4 }]), 'spectrum: measured beside predicted for the arms with a prediction, nulls left out');

// ---- the audit's cells: in the heatmap's order, joined with DESIGN 2.2, a disagreement explained ----
const { auditCells, disagreement } = await import(new URL('audit.js', web));
const aspec = { data: [{ name: 'poly', source: 'sphere', shape: [8, 2] }],
  models: [{ name: 'vec', arch: 'cnn-vec', padding: 'circular', stride: [1] }, { name: 'fcn', arch: 'fcn' }],
  inference: [{ name: 'sgd', method: 'sgd' }, { name: 'ntk', method: 'ntk' }], audit: { seeds: 4 } };
// as the server lists them: groups alphabetically within an arm
const acells = auditCells([
  { arm: 'poly/vec/sgd', group: 'local-orthogonal', gap: 0.43, seed_gap: 0.49, method: 'distributional', invariant: true },
  { arm: 'poly/vec/sgd', group: 'permutation', gap: 0.7, seed_gap: 0.49, method: 'distributional', invariant: true },
  { arm: 'poly/vec/sgd', group: 'translation', gap: 0.15, seed_gap: 0.49, method: 'distributional', invariant: true },
  { arm: 'poly/vec/ntk', group: 'permutation', gap: 0.41, seed_gap: null, method: 'exact', invariant: false },
  { arm: 'poly/fcn/sgd', group: 'translation', gap: 0.9, seed_gap: 0.05, method: 'distributional', invariant: false }], aspec);
check(eq(acells.cells.map((c) => c.arm + ' ' + c.group), ['poly/vec/sgd permutation', 'poly/vec/sgd local-orthogonal', 'poly/vec/sgd translation',
  'poly/vec/ntk permutation', 'poly/fcn/sgd translation']) && eq(acells.groups, ['permutation', 'local-orthogonal', 'translation']),
  'audit cells in the heatmap\'s order: arms as listed, groups in DESIGN 2.2\'s order', acells.cells.map((c) => c.group));
check(eq(acells.cells.map((c) => c.agrees), [false, false, true, true, false]), 'disagreements with DESIGN 2.2: cnn-vec + sgd measured invariant under permutation and local-orthogonal, fcn + sgd not under translation');
const below = disagreement(acells.cells[0], 4);
check(below.startsWith('poly/vec/sgd × permutation measured invariant') && below.includes('seed-noise gap 0.49') && below.includes('4 seeds') && /seed floor/.test(below),
  'a distributional "invariant" against DESIGN 2.2 is read with its seed floor', below);
const chance = disagreement(acells.cells[4], 4);
const exact = disagreement(acells.cells[3], 4);
check(chance.startsWith('poly/fcn/sgd × translation measured not invariant') && chance.includes('seed-noise gap 0.05') && !/seed floor/.test(chance) &&
  exact === 'poly/vec/ntk × permutation measured not invariant', 'a distributional "not invariant" gives its seed-noise gap; an exact cell its verdict alone', [chance, exact]);

console.log('web units: ' + passed + ' passed, ' + failed + ' failed');
process.exit(failed ? 1 : 0);
