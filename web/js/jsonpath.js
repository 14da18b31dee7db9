/* dmilab dashboard: find the text of a spec field in the JSON the user typed, from the field path the
 * server names in a 400 (`error.field`, e.g. "models[1].filter", "data.n_train[0]"), so the submit page can
 * point at it. A small JSON reader that records where each value starts and ends. Pure functions. */

/** Split "models[1].filter" into ["models", 1, "filter"]. */
export function splitPath(path) {
  const out = [];
  const re = /([^.[\]]+)|\[(\d+)\]/g;
  let m;
  while ((m = re.exec(String(path)))) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}

/** Parse `text` into a tree of {type, start, end, entries|items} (offsets into text, end exclusive).
 *  Throws {message, offset} on a syntax error. */
export function parseTree(text) {
  let i = 0;
  const fail = (msg) => { const e = new Error(msg); e.offset = i; throw e; };
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  function str() {
    const start = i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail('control character in a string');
      i++;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    return { type: 'string', start, end: i, value: JSON.parse(text.slice(start, i)) };
  }
  function value() {
    ws();
    const c = text[i];
    const start = i;
    if (c === '{') {
      i++;
      const entries = [];
      ws();
      if (text[i] === '}') { i++; return { type: 'object', start, end: i, entries }; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a "key"');
        const key = str();
        ws();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        entries.push({ key: key.value, keyStart: key.start, keyEnd: key.end, value: value() });
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return { type: 'object', start, end: i, entries }; }
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const items = [];
      ws();
      if (text[i] === ']') { i++; return { type: 'array', start, end: i, items }; }
      for (;;) {
        items.push(value());
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return { type: 'array', start, end: i, items }; }
        fail('expected "," or "]"');
      }
    }
    if (c === '"') return str();
    const m = /^(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) fail('unexpected ' + (c === undefined ? 'end of text' : JSON.stringify(c)));
    i += m[1].length;
    return { type: 'literal', start, end: i };
  }
  const root = value();
  ws();
  if (i < text.length) fail('unexpected text after the JSON value');
  return root;
}

/**
 * Where the value at `path` is in `text`: {start, end, found} with `found` false when the path leads to a
 * member that is absent (then the span is its nearest present parent, or the key whose value does not go
 * deeper). An index into an object (the spec's "data", "models", "inference" may be one object or a list)
 * at 0 stands for the object itself. Returns null when `text` is not JSON.
 */
export function locate(text, path) {
  let node;
  try { node = parseTree(text); } catch (e) { return null; }
  let span = { start: node.start, end: node.end };
  for (const seg of splitPath(path)) {
    let next = null;
    if (typeof seg === 'number') {
      if (node.type === 'array') next = node.items[seg] || null;
      else if (node.type === 'object' && seg === 0) continue;
      if (next) { node = next; span = { start: node.start, end: node.end }; continue; }
    } else if (node.type === 'object') {
      const e = node.entries.find((x) => x.key === seg);
      if (e) { node = e.value; span = { start: e.keyStart, end: e.value.end }; continue; }
    } else if (node.type === 'array' && node.items.length === 1) {
      // "data.n_train" for a one-element list
      const e = node.items[0].type === 'object' && node.items[0].entries.find((x) => x.key === seg);
      if (e) { node = e.value; span = { start: e.keyStart, end: e.value.end }; continue; }
    }
    return Object.assign(span, { found: false });
  }
  return Object.assign(span, { found: true });
}

/** 1-based {line, column} of `offset` in `text`. */
export function lineCol(text, offset) {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}
