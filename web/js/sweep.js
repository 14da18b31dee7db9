/* dmilab dashboard: swept fields (DESIGN 3.1: a scalar field given as a list expands the grid, and arms are
 * named by their values, "fcn.width=256"): which arms form a sweep, and the kernel arms that are its
 * infinite-width limit. Pure functions. */
import { isNum } from './format.js';

const KERNEL = new Set(['nngp', 'ntk']);

/** "fcn.width=256" -> {base: "fcn", fields: {width: 256}}; "ntk.ridge=1e-06.depth=2" has two fields.
 *  A name without "=" -> {base: name, fields: {}}. Values that are numbers become numbers. */
export function parseSwept(name) {
  const s = String(name);
  const m = /^(.*?)((?:\.[A-Za-z_][A-Za-z0-9_]*=[^=]+)+)$/.exec(s);
  if (!m || !m[1]) return { base: s, fields: {} };
  const fields = {};
  for (const part of m[2].slice(1).split(/\.(?=[A-Za-z_][A-Za-z0-9_]*=)/)) {
    const eq = part.indexOf('=');
    const raw = part.slice(eq + 1);
    const num = Number(raw);
    fields[part.slice(0, eq)] = raw !== '' && Number.isFinite(num) ? num : raw;
  }
  return { base: m[1], fields };
}

/**
 * The sweeps among `arms` ("data/model/inference" ids). `methodOf(inferenceName)` gives the inference
 * method ('ntk', 'sgd', ...). Returns [{field, part: 'model'|'inference', key, label, arms: [{arm, value}],
 * limits: [{arm, method, label}]}]: one entry per swept field and per combination of everything else
 * (data, the other part, other swept fields), with at least two values, sorted by value. For a swept
 * model `width`, kernel arms (nngp, ntk: infinite width, the width ignored) of the same data and base
 * model are not a sweep but the limit the finite widths approach: `limits` = [{inference, method, arms}],
 * one per kernel inference entry.
 */
export function findSweeps(arms, methodOf) {
  const parsed = arms.map((arm) => {
    const [d, m, i] = String(arm).split('/');
    return { arm, d, m: parseSwept(m), i: parseSwept(i), method: methodOf(i) };
  });
  const groups = new Map();
  const kernelByBase = new Map(); // "data/base model" -> kernel arms
  for (const p of parsed) {
    if (KERNEL.has(p.method)) {
      const k = p.d + '/' + p.m.base;
      if (!kernelByBase.has(k)) kernelByBase.set(k, []);
      kernelByBase.get(k).push(p);
    }
    for (const part of ['model', 'inference']) {
      const own = part === 'model' ? p.m : p.i;
      for (const [field, value] of Object.entries(own.fields)) {
        if (part === 'model' && field === 'width' && KERNEL.has(p.method)) continue; // the limit, not a point
        const rest = Object.entries(own.fields).filter(([f]) => f !== field).map(([f, v]) => f + '=' + v).join(',');
        const other = part === 'model' ? p.i : p.m;
        const otherName = other.base + Object.entries(other.fields).map(([f, v]) => '.' + f + '=' + v).join('');
        const key = [part, field, p.d, own.base, rest, otherName].join('|');
        if (!groups.has(key)) {
          const label = part === 'model'
            ? p.d + '/' + own.base + (rest ? '.' + rest : '') + '/' + otherName
            : p.d + '/' + otherName + '/' + own.base + (rest ? '.' + rest : '');
          groups.set(key, { field, part, key, label, data: p.d, base: part === 'model' ? own.base : p.m.base, arms: [] });
        }
        groups.get(key).arms.push({ arm: p.arm, value });
      }
    }
  }
  const out = [];
  for (const g of groups.values()) {
    if (new Set(g.arms.map((a) => a.value)).size < 2) continue;
    g.arms.sort((a, b) => (isNum(a.value) && isNum(b.value) ? a.value - b.value : String(a.value) < String(b.value) ? -1 : 1));
    g.limits = [];
    if (g.part === 'model' && g.field === 'width') {
      // one limit per kernel inference entry (its full name: a ridge sweep gives one line per ridge), over
      // the kernel arms of this data and base model whose other model fields match the sweep's
      const restOf = (m) => Object.entries(m.fields).filter(([f]) => f !== 'width').map(([f, v]) => f + '=' + v).join(',');
      const mine = restOf(parseSwept(g.arms[0].arm.split('/')[1]));
      const byInf = new Map();
      for (const k of kernelByBase.get(g.data + '/' + g.base) || []) {
        if (restOf(k.m) !== mine) continue;
        const name = k.arm.split('/')[2];
        if (!byInf.has(name)) byInf.set(name, { inference: name, method: k.method, arms: [] });
        byInf.get(name).arms.push(k.arm);
      }
      g.limits = Array.from(byInf.values());
    }
    out.push(g);
  }
  return out;
}
