/* dmilab dashboard: a figure taken out of the page as a file: one standalone SVG of the plot with its title,
 * legend and axis labels; the same picture as PNG (with the title and legend text in PNG tEXt chunks); and
 * downloads of those and of CSV text. */

const SVG_NS = 'http://www.w3.org/2000/svg';
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif';

function textEl(x, y, text, attrs) {
  const t = document.createElementNS(SVG_NS, 'text');
  t.setAttribute('x', x);
  t.setAttribute('y', y);
  for (const [k, v] of Object.entries(attrs || {})) t.setAttribute(k, v);
  t.textContent = text;
  return t;
}

/** `svg` (an <svg> on the page) as a <g> translated by (x, y) that keeps its attributes (fill, fonts,
 *  class for its <style>) and children; interactive tips are left out. */
function asGroup(svg, x, y) {
  const g = document.createElementNS(SVG_NS, 'g');
  for (const a of Array.from(svg.attributes)) {
    if (!['width', 'height', 'viewBox', 'xmlns', 'style', 'role', 'tabindex'].includes(a.name)) g.setAttribute(a.name, a.value);
  }
  g.setAttribute('transform', 'translate(' + x + ',' + y + ')');
  for (const c of Array.from(svg.childNodes)) g.append(c.cloneNode(true));
  for (const tip of g.querySelectorAll('[aria-label="tip"]')) tip.remove();
  return g;
}

function sizeOf(svg) {
  const w = Number(svg.getAttribute('width')) || svg.getBoundingClientRect().width;
  const h = Number(svg.getAttribute('height')) || svg.getBoundingClientRect().height;
  return { w, h };
}

/**
 * The standalone SVG text of a figure: `title` (and `subtitle`) above, then each of `parts` (<svg>
 * elements: the plot, its legend, a colour ramp) stacked, then `note` below, on a white background.
 */
export function composeSvg({ title, subtitle, parts, note }) {
  const pad = 10;
  const root = document.createElementNS(SVG_NS, 'svg');
  root.setAttribute('xmlns', SVG_NS);
  root.setAttribute('font-family', FONT);
  let y = pad;
  const body = [];
  if (title) { y += 15; body.push(textEl(pad, y, title, { 'font-size': 15, 'font-weight': 600, fill: '#1f2430' })); }
  if (subtitle) { y += 17; body.push(textEl(pad, y, subtitle, { 'font-size': 12, fill: '#4a5260' })); }
  y += 8;
  let width = 0;
  for (const svg of parts.filter(Boolean)) {
    const { w, h } = sizeOf(svg);
    body.push(asGroup(svg, 0, y));
    y += h + 4;
    width = Math.max(width, w);
  }
  if (note) { y += 12; body.push(textEl(pad, y, note, { 'font-size': 11, fill: '#4a5260' })); }
  y += pad;
  width = Math.ceil(Math.max(width, 320));
  const height = Math.ceil(y);
  root.setAttribute('width', width);
  root.setAttribute('height', height);
  root.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
  const bg = document.createElementNS(SVG_NS, 'rect');
  bg.setAttribute('width', '100%');
  bg.setAttribute('height', '100%');
  bg.setAttribute('fill', '#ffffff');
  root.append(bg, ...body);
  return { text: '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(root), width, height };
}

let crcTable = null;
function crc32(bytes) {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A PNG tEXt chunk (PNG spec 11.3.4.3): Latin-1 keyword, NUL, Latin-1 text (other characters as '?'). */
function textChunk(keyword, text) {
  const latin1 = (s) => Array.from(s, (ch) => (ch.charCodeAt(0) < 256 ? ch.charCodeAt(0) : 63));
  const data = Uint8Array.from([...latin1(keyword), 0, ...latin1(text)]);
  const chunk = new Uint8Array(12 + data.length);
  const dv = new DataView(chunk.buffer);
  dv.setUint32(0, data.length);
  chunk.set([116, 69, 88, 116], 4); // "tEXt"
  chunk.set(data, 8);
  dv.setUint32(8 + data.length, crc32(chunk.subarray(4, 8 + data.length)));
  return chunk;
}

/** Insert tEXt chunks ({keyword: text}) after the IHDR chunk of the PNG `bytes`. */
export function withTextChunks(bytes, texts) {
  const ihdrEnd = 8 + 4 + 4 + 13 + 4; // signature, IHDR length, type, data, CRC
  const chunks = Object.entries(texts).filter(([, v]) => v).map(([k, v]) => textChunk(k, v));
  const out = new Uint8Array(bytes.length + chunks.reduce((s, c) => s + c.length, 0));
  out.set(bytes.subarray(0, ihdrEnd), 0);
  let o = ihdrEnd;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  out.set(bytes.subarray(ihdrEnd), o);
  return out;
}

/** The PNG (a Blob) of an SVG text of `width` x `height` CSS pixels, drawn at `scale` device pixels per CSS
 *  pixel, with `texts` as tEXt chunks (Title, Description, Software). */
export async function svgToPng(svgText, width, height, texts, scale = 2) {
  const url = URL.createObjectURL(new Blob([svgText], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.decoding = 'sync';
    await new Promise((resolve, reject) => {
      img.onload = resolve;
      img.onerror = () => reject(new Error('the browser could not draw the SVG'));
      img.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
    const bytes = new Uint8Array(await blob.arrayBuffer());
    return new Blob([withTextChunks(bytes, texts)], { type: 'image/png' });
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Save `blob` as `filename` through the browser's download. */
export function download(blob, filename) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 30000);
}
