/* dmilab dashboard: reading an experiment's resolved spec (DESIGN 3): its entries, which may be one object or
 * a list, and the inference method behind an inference name. Pure functions. */

/** `v` as a list: a list as is, one object as [object], anything else []. */
export function asList(v) {
  return Array.isArray(v) ? v : v && typeof v === 'object' ? [v] : [];
}

/** name -> inference method from the spec's `inference` entries; an unknown name (or a swept one such as
 *  "ntk.ridge=0.01" whose entry is named "ntk") falls back to the part before the first '.'. */
export function methodLookup(spec) {
  const m = new Map(asList(spec && spec.inference).filter((x) => x && x.name).map((x) => [x.name, x.method]));
  return (name) => m.get(name) || m.get(String(name).split('.')[0]) || String(name).split('.')[0];
}
