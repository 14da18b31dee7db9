/* dmilab dashboard: the provenance an experiment's worker recorded (versions, threads, BLAS, SIMD, the data
 * files with their SHA-256; docs/api.md) inside the collapsed specification panel. */
import { $, ENDED } from './widgets.js';

let shown; // JSON text of what is rendered, so polling does not rebuild it

export function renderProvenance(prov, status) {
  const key = status + JSON.stringify(prov === undefined ? null : prov);
  if (key === shown) return;
  shown = key;
  const has = prov && typeof prov === 'object';
  $('provenance-empty').hidden = !!has;
  $('provenance-empty').textContent = ENDED.has(status)
    ? 'Not recorded: no worker started this experiment (or the server predates provenance).'
    : 'Not recorded yet: a worker writes it when it starts the experiment.';
  const dl = $('provenance-meta');
  const rows = $('provenance-file-rows');
  dl.replaceChildren();
  rows.replaceChildren();
  $('provenance-files').hidden = true;
  if (!has) return;
  const item = (label, value) => {
    if (value === undefined || value === null || value === '') return;
    const div = document.createElement('div');
    div.append(Object.assign(document.createElement('dt'), { textContent: label }),
      Object.assign(document.createElement('dd'), { textContent: typeof value === 'object' ? JSON.stringify(value) : String(value) }));
    dl.append(div);
  };
  item('Version', prov.version);
  item('Threads', prov.threads);
  item('Workers', prov.workers);
  const blas = prov.blas && typeof prov.blas === 'object' ? prov.blas : null;
  if (blas) {
    item('BLAS', blas.config);
    item('BLAS threads', blas.num_threads);
  } else item('BLAS', prov.blas);
  const simd = prov.simd && typeof prov.simd === 'object' ? prov.simd : null;
  if (simd) {
    const feats = Object.entries(simd).filter(([k]) => k !== 'DMILAB_SIMD')
      .map(([k, v]) => k + (v === true ? ' ✓' : v === false ? ' ✗' : ' ' + JSON.stringify(v)));
    item('SIMD (CPU)', feats.join(' · ') || '—');
    item('DMILAB_SIMD cap', simd.DMILAB_SIMD === null || simd.DMILAB_SIMD === undefined ? 'not set' : simd.DMILAB_SIMD);
  } else item('SIMD', prov.simd);
  const known = new Set(['version', 'threads', 'workers', 'blas', 'simd', 'data_files']);
  for (const [k, v] of Object.entries(prov)) if (!known.has(k)) item(k, v); // anything a newer server adds

  const files = Array.isArray(prov.data_files) ? prov.data_files : [];
  $('provenance-files').hidden = !files.length;
  for (const f of files) {
    const tr = document.createElement('tr');
    const tdP = Object.assign(document.createElement('td'), { className: 'path', textContent: f && f.path ? f.path : '—' });
    const tdH = document.createElement('td');
    tdH.append(Object.assign(document.createElement('code'), { className: 'sha', textContent: f && f.sha256 ? f.sha256 : 'unreadable' }));
    tr.append(tdP, tdH);
    rows.append(tr);
  }
}
