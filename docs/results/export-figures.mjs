// Exports the dashboard's figures of finished experiments as SVG (the dashboard's own download button), for
// docs/results.md: opens each experiment's page in headless Chromium and saves the figures it names.
//
//   node docs/results/export-figures.mjs BASE_URL OUT_DIR ID:NAME:FIG[,FIG...] ...
// e.g. exp_ab12:fmnist-symmetry:acc,mse writes OUT_DIR/fmnist-symmetry-acc.svg and -mse.svg (FIG is the
// dashboard's figure key: acc, mse, train-loss, train-test, audit, ...).
import { readdirSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from '../../tests/browser/cdp.mjs';

const [base, out, ...wanted] = process.argv.slice(2);
const downloads = join(out, '.downloads');
rmSync(downloads, { recursive: true, force: true });
mkdirSync(downloads, { recursive: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const page = await launch({ width: 1280, height: 900, log: () => {} });
await page.allowDownloads(downloads);
let failed = 0;
for (const w of wanted) {
  const [id, name, figs] = w.split(':');
  await page.goto(base + '/#' + id);
  for (const fig of figs.split(',')) {
    const sel = '#fig-' + fig + ' button[data-format="svg"]';
    if (!(await page.waitFor('!!document.querySelector(' + JSON.stringify(sel) + ')', 30000))) {
      console.error('no figure ' + fig + ' on ' + id);
      failed++;
      continue;
    }
    await sleep(400); // the figures' widths settle on a ResizeObserver
    const before = new Set(readdirSync(downloads));
    const n0 = page.downloads.length;
    await page.click(sel);
    for (let i = 0; i < 100 && page.downloads.length === n0; i++) await sleep(100);
    const file = readdirSync(downloads).find((f) => !before.has(f));
    if (!file) { console.error('no download of ' + fig + ' on ' + id); failed++; continue; }
    writeFileSync(join(out, name + '-' + fig + '.svg'), readFileSync(join(downloads, file)));
    console.log(join(out, name + '-' + fig + '.svg'));
  }
}
rmSync(downloads, { recursive: true, force: true });
await page.close();
process.exit(failed ? 1 : 0);
