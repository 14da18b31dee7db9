/* dmilab dashboard: the compare page: several experiments' chosen arms overlaid on one learning-curve plot
 * per metric (#/compare?ids=a,b). */
import { api } from './api.js';
import { $ } from './widgets.js';
import { compareStyles } from './encoding.js';
import { renderLearning } from './learning.js';

const cmp = { ids: [], chosen: new Set(), seen: new Set() }; // seen: experiments whose default arms were chosen

/** Show the compare page for `params.ids` (comma-separated experiment ids). */
export async function showCompare(params) {
  const ids = (params.get('ids') || '').split(',').map((s) => s.trim()).filter(Boolean);
  if (ids.join(',') !== cmp.ids.join(',')) {
    cmp.ids = ids;
    for (const k of Array.from(cmp.chosen)) if (!ids.includes(k.split('|')[0])) cmp.chosen.delete(k);
    for (const id of Array.from(cmp.seen)) if (!ids.includes(id)) cmp.seen.delete(id);
  }
  if (!ids.length) {
    $('compare-note').textContent = 'Pick experiments with the check boxes in the list, then press Compare.';
    $('compare-arms').hidden = true;
    $('compare-figs').replaceChildren();
    return;
  }
  $('compare-note').textContent = 'Loading ' + ids.length + ' experiment' + (ids.length === 1 ? '' : 's') + '…';
  const loaded = await Promise.all(ids.map(async (id) => {
    try {
      const [exp, res] = await Promise.all([api('experiments/' + encodeURIComponent(id)),
        api('experiments/' + encodeURIComponent(id) + '/results').catch((e) => (e.status === 404 ? null : Promise.reject(e)))]);
      return { id, exp, res };
    } catch (e) {
      return { id, error: e };
    }
  }));
  if (ids.join(',') !== cmp.ids.join(',')) return; // navigated on meanwhile
  const names = new Map();
  for (const l of loaded) if (l.exp) names.set(l.exp.name, (names.get(l.exp.name) || 0) + 1);
  const box = $('compare-arms');
  box.hidden = false;
  box.replaceChildren(Object.assign(document.createElement('legend'), { textContent: 'Arms to overlay' }));
  const curves = [];
  const failed = [];
  for (const l of loaded) {
    if (l.error) { failed.push(l.id + ' (' + l.error.message + ')'); continue; }
    const title = names.get(l.exp.name) > 1 ? l.exp.name + ' [' + l.id + ']' : (l.exp.name || l.id);
    const group = document.createElement('div');
    group.className = 'compare-exp';
    group.append(Object.assign(document.createElement('span'), { className: 'compare-exp-name', textContent: title }));
    const cs = l.res && Array.isArray(l.res.curves) ? l.res.curves.filter((c) => c && Array.isArray(c.n_train)) : [];
    if (!cs.length) group.append(Object.assign(document.createElement('span'), { className: 'note', textContent: ' no results yet' }));
    cs.forEach((c, k) => {
      const key = l.id + '|' + c.arm;
      if (!cmp.seen.has(l.id) && k < 4) cmp.chosen.add(key); // the first four arms of a newly added experiment
      const lab = document.createElement('label');
      lab.className = 'compare-arm';
      const cb = Object.assign(document.createElement('input'), { type: 'checkbox', checked: cmp.chosen.has(key) });
      cb.dataset.key = key;
      lab.append(cb, ' ', c.arm);
      group.append(lab);
      curves.push(Object.assign({}, c, { _key: key, _label: title + ': ' + c.arm, _exp: l.id, _points: l.res.points || [] }));
    });
    box.append(group);
    if (cs.length) cmp.seen.add(l.id);
  }
  box.onchange = (ev) => {
    const k = ev.target.dataset && ev.target.dataset.key;
    if (!k) return;
    if (ev.target.checked) cmp.chosen.add(k); else cmp.chosen.delete(k);
    draw(curves);
  };
  $('compare-note').textContent = loaded.filter((l) => l.exp).length + ' experiment' + (loaded.length === 1 ? '' : 's') +
    (failed.length ? '; could not load ' + failed.join(', ') : '') + '. Colour: experiment; dash and marker: arm within it.';
  draw(curves);
}

function draw(curves) {
  const chosen = curves.filter((c) => cmp.chosen.has(c._key));
  const styles = compareStyles(chosen.map((c) => ({ exp: c._exp, arm: c.arm, key: c._key })));
  const series = chosen.map((c) => ({ key: c._key, label: c._label, style: styles.get(c._key) }));
  const holder = $('compare-figs');
  if (!chosen.length) {
    for (const f of holder.querySelectorAll('figure')) f.hidden = true;
    return;
  }
  renderLearning(holder, null, chosen, [], { series, keyOf: (c) => c._key, prefix: 'cmp-', subtitle: 'comparison of ' + new Set(chosen.map((c) => c._exp)).size + ' experiments' });
}
