/* dmilab dashboard: one figure on the page (a plot drawn by the vendored Observable Plot, its legend as SVG,
 * a note) with PNG, SVG and CSV downloads of exactly what it shows; re-drawn when its width changes. */
import { composeSvg, svgToPng, download } from './export.js';
import { toCSV } from './series.js';
import { slug } from './format.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const LEGEND_FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif';
let measureCtx = null;

function textWidth(s) {
  if (!measureCtx) measureCtx = document.createElement('canvas').getContext('2d');
  measureCtx.font = LEGEND_FONT;
  return measureCtx.measureText(s).width;
}

/** The SVG path of an Observable Plot symbol name (circle, square, ...) of area `size`, by d3.symbol. */
export function symbolPath(name, size) {
  const d3 = window.d3;
  const map = { circle: d3.symbolCircle, square: d3.symbolSquare, triangle: d3.symbolTriangle,
    diamond: d3.symbolDiamond, star: d3.symbolStar, cross: d3.symbolCross, wye: d3.symbolWye, times: d3.symbolTimes };
  return d3.symbol(map[name] || d3.symbolCircle, size)();
}

/**
 * The legend as an <svg> `width` px wide: per entry {label, color, dash, symbol, kind: 'line'|'rule'|'dot',
 * key, off} a sample of the line (dash) and/or the marker in the colour, then the label; entries flow in
 * rows. With `interactive`, entries with a key are buttons that hide or show their series (off: hidden).
 */
export function legendSvg(entries, width, interactive) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('class', 'legend-svg');
  svg.setAttribute('font-family', 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif');
  svg.setAttribute('font-size', '12');
  svg.setAttribute('role', 'list');
  svg.setAttribute('aria-label', 'legend');
  const rowH = 20;
  const sample = 30;
  let x = 8;
  let y = 0;
  for (const e of entries) {
    const w = sample + 6 + textWidth(e.label) + 18;
    if (x > 8 && x + w > width) { x = 8; y += rowH; }
    const g = document.createElementNS(SVG_NS, 'g');
    g.setAttribute('transform', 'translate(' + x + ',' + (y + rowH / 2) + ')');
    g.setAttribute('role', 'listitem');
    g.setAttribute('class', 'legend-entry' + (e.off ? ' legend-off' : ''));
    if (e.key !== undefined && interactive) {
      // a button: click, Enter or Space hides or shows the series
      g.setAttribute('role', 'button');
      g.setAttribute('tabindex', '0');
      g.setAttribute('aria-pressed', e.off ? 'false' : 'true');
      g.setAttribute('aria-label', (e.off ? 'Show ' : 'Hide ') + e.label);
      g.dataset.key = e.key;
      const hit = document.createElementNS(SVG_NS, 'rect');
      Object.entries({ x: -4, y: -rowH / 2, width: w - 10, height: rowH, fill: 'transparent' }).forEach(([k, v]) => hit.setAttribute(k, v));
      g.append(hit);
    }
    if (e.kind !== 'dot') {
      const l = document.createElementNS(SVG_NS, 'line');
      l.setAttribute('x1', 0); l.setAttribute('x2', sample); l.setAttribute('y1', 0); l.setAttribute('y2', 0);
      l.setAttribute('stroke', e.color);
      l.setAttribute('stroke-width', e.kind === 'rule' ? 1.75 : 2);
      if (e.dash) l.setAttribute('stroke-dasharray', e.dash);
      g.append(l);
    }
    if (e.symbol && e.kind !== 'rule') {
      const p = document.createElementNS(SVG_NS, 'path');
      p.setAttribute('d', symbolPath(e.symbol, 42));
      p.setAttribute('transform', 'translate(' + sample / 2 + ',0)');
      p.setAttribute('fill', e.color);
      p.setAttribute('stroke', e.color);
      g.append(p);
    }
    const t = document.createElementNS(SVG_NS, 'text');
    t.setAttribute('x', sample + 6);
    t.setAttribute('y', 4);
    t.setAttribute('fill', '#1f2430');
    t.textContent = e.label;
    g.append(t);
    svg.append(g);
    x += w;
  }
  const h = entries.length ? y + rowH + 2 : 0;
  svg.setAttribute('width', width);
  svg.setAttribute('height', h);
  svg.setAttribute('viewBox', '0 0 ' + width + ' ' + h);
  return svg;
}

const registry = new Map(); // key -> figure (for the console and the browser test)
export const figures = registry;

/**
 * A figure in `parent` with an id "fig-<key>": create once, then render({...}) as often as the data
 * changes. render takes {title, subtitle (the experiment), plot(width, hidden) -> <svg> (Observable Plot;
 * `hidden`: the Set of series keys the reader switched off in the legend), legend: entries for legendSvg
 * or null, ramp(width) -> <svg> or null (a colour scale's legend), note: text, csv: {columns, rows,
 * key: row -> series key} (rows of hidden series are left out), file: base file name, info: {x, y} domains
 * to expose for tests}. Exports show what the page shows.
 */
export function figure(parent, key, titleHtml) {
  let fig = registry.get(key);
  if (fig && fig.el.isConnected && parent.contains(fig.el)) return fig;
  const el = document.createElement('figure');
  el.className = 'fig';
  el.id = 'fig-' + key;
  el.innerHTML = '<figcaption class="fig-title"></figcaption><div class="fig-plot"></div>' +
    '<div class="fig-legend"></div><div class="fig-ramp"></div><p class="fig-note hint"></p>' +
    '<div class="fig-actions" role="group"><span class="fig-actions-label">Download</span>' +
    '<button type="button" class="btn btn-small" data-format="png">PNG</button>' +
    '<button type="button" class="btn btn-small" data-format="svg">SVG</button>' +
    '<button type="button" class="btn btn-small" data-format="csv">CSV</button>' +
    '<span class="fig-status note" role="status"></span></div>';
  el.querySelector('.fig-title').innerHTML = titleHtml;
  parent.append(el);
  fig = { key, el, opts: null, width: 0, hidden: new Set() };
  const toggle = (g) => {
    const k = g.dataset.key;
    if (fig.hidden.has(k)) fig.hidden.delete(k); else fig.hidden.add(k);
    draw(fig);
    const again = fig.el.querySelector('.fig-legend [data-key="' + CSS.escape(k) + '"]');
    if (again) again.focus();
  };
  el.querySelector('.fig-legend').addEventListener('click', (ev) => {
    const g = ev.target.closest('[data-key]');
    if (g) toggle(g);
  });
  el.querySelector('.fig-legend').addEventListener('keydown', (ev) => {
    const g = ev.target.closest('[data-key]');
    if (g && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); toggle(g); }
  });
  el.querySelector('.fig-actions').setAttribute('aria-label', 'Download this figure');
  el.querySelector('.fig-actions').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-format]');
    if (b) exportFigure(fig, b.dataset.format);
  });
  registry.set(key, fig);
  if (typeof ResizeObserver === 'function') {
    let raf = 0;
    new ResizeObserver(() => {
      cancelAnimationFrame(raf);
      raf = requestAnimationFrame(() => {
        const w = plotWidth(fig);
        if (fig.opts && Math.abs(w - fig.width) > 2) draw(fig);
      });
    }).observe(el);
  }
  return fig;
}

function plotWidth(fig) {
  return Math.max(240, Math.floor(fig.el.clientWidth || 600));
}

function draw(fig) {
  const o = fig.opts;
  const w = plotWidth(fig);
  fig.width = w;
  const holder = fig.el.querySelector('.fig-plot');
  const keys = new Set((o.legend || []).map((e) => e.key).filter((k) => k !== undefined));
  for (const k of Array.from(fig.hidden)) if (!keys.has(k)) fig.hidden.delete(k); // series gone since
  const svg = o.plot(w, fig.hidden);
  svg.classList.add('fig-svg');
  svg.setAttribute('role', 'img');
  if (o.aria) svg.setAttribute('aria-label', o.aria);
  holder.replaceChildren(svg);
  fig.svg = svg;
  const lg = fig.el.querySelector('.fig-legend');
  const entries = (o.legend || []).map((e) => Object.assign({}, e, { off: e.key !== undefined && fig.hidden.has(e.key) }));
  fig.legend = entries.length ? legendSvg(entries, w, true) : null;
  lg.replaceChildren(...(fig.legend ? [fig.legend] : []));
  const rp = fig.el.querySelector('.fig-ramp');
  fig.ramp = o.ramp ? o.ramp(Math.min(w, 360)) : null;
  rp.replaceChildren(...(fig.ramp ? [fig.ramp] : []));
  fig.el.querySelector('.fig-note').textContent = o.note || '';
  fig.el.querySelector('.fig-note').hidden = !o.note;
  for (const [axis, d] of Object.entries(o.info || {})) fig.el.dataset[axis + 'Domain'] = d ? d.join(',') : '';
}

/** Draw (or re-draw) the figure with new options; see figure(). */
export function render(fig, opts) {
  fig.opts = opts;
  fig.el.hidden = false;
  draw(fig);
}

/** The figure's standalone SVG {text, width, height} (plot, legend, colour ramp, title, note). */
export function figureSvg(fig) {
  const o = fig.opts;
  // the exported legend lists what is drawn: entries switched off are left out
  const shown = (o.legend || []).filter((e) => e.key === undefined || !fig.hidden.has(e.key));
  const legend = shown.length ? legendSvg(shown, fig.width, false) : null;
  return composeSvg({ title: o.title, subtitle: o.subtitle, parts: [fig.svg, legend, fig.ramp], note: o.note });
}

async function exportFigure(fig, format) {
  if (!fig.opts) return;
  const o = fig.opts;
  const status = fig.el.querySelector('.fig-status');
  const base = slug(o.file || fig.key);
  try {
    if (format === 'csv') {
      const rows = o.csv.key ? o.csv.rows.filter((r) => !fig.hidden.has(o.csv.key(r))) : o.csv.rows;
      download(new Blob([toCSV(o.csv.columns, rows)], { type: 'text/csv' }), base + '.csv');
    } else {
      const s = figureSvg(fig);
      if (format === 'svg') download(new Blob([s.text], { type: 'image/svg+xml' }), base + '.svg');
      else {
        const legendText = (o.legend || []).filter((e) => !fig.hidden.has(e.key)).map((e) => e.label).join('; ');
        const png = await svgToPng(s.text, s.width, s.height, {
          Title: o.title + (o.subtitle ? ' (' + o.subtitle + ')' : ''),
          Description: (legendText ? 'Legend: ' + legendText + '. ' : '') + (o.axes || '') + (o.note ? ' ' + o.note : ''),
          Software: 'dmilab dashboard',
        });
        download(png, base + '.png');
      }
    }
    status.textContent = 'Saved ' + base + '.' + format;
  } catch (e) {
    status.textContent = 'Could not export: ' + (e && e.message || e);
  }
}
