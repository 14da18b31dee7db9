/* dmilab dashboard: the symmetry table of DESIGN section 2.2 as a function, so the audit heatmap can show
 * beside each measured gap what the theory expects for the arm's (model, inference). Pure functions. */

import { asList } from './specinfo.js';

/** The transform groups of DESIGN 2.2, in the table's order. */
export const GROUPS = ['orthogonal', 'permutation', 'local-orthogonal', 'channel-orthogonal', 'translation',
  'signed-permutation'];

const KERNEL = new Set(['nngp', 'ntk']);
const SGD_LIKE = new Set(['nngp', 'ntk', 'gd', 'sgd']);

/** The (M, sgd) group of DESIGN 2.2 for `arch` (kernels and gd share it), as group -> true | false.
 *  `kernel`: cnn-vec at infinite width equals lcn. `C1`: one channel, where channel-orthogonal is x -> -x
 *  (every model is invariant) and local-orthogonal is per-position sign flips. */
function sgdGroup(arch, kernel, C1) {
  const all = (v) => Object.fromEntries(GROUPS.map((g) => [g, v]));
  if (arch === 'fcn') return all(true); // every transform below is orthogonal
  const g = all(false);
  g['channel-orthogonal'] = true;
  g.translation = true;
  if (arch === 'lcn' || (arch === 'cnn-vec' && kernel)) g['local-orthogonal'] = true;
  if (C1) g['channel-orthogonal'] = true;
  return g;
}

/** Whether `group` is a signed permutation of the coordinates the first layer acts on (DESIGN 2.2, the Adam
 *  row): a permutation of positions, a translation, a signed permutation; local- and channel-orthogonal
 *  only with one channel (sign flips). `C1` null: unknown channel count. */
function isSignedPermutation(group, C1) {
  if (group === 'permutation' || group === 'translation' || group === 'signed-permutation') return true;
  if (group === 'local-orthogonal' || group === 'channel-orthogonal') return C1;
  return false;
}

/**
 * The expected verdict of DESIGN 2.2 for one arm and group.
 * arm: {arch: 'fcn'|'lcn'|'cnn-vec'|'cnn-gap'|undefined, method: 'nngp'|'ntk'|'gd'|'sgd'|'adam',
 *       channels: C or null (unknown), padding: 'same'|'valid'|'circular', stride: number or [numbers]}.
 * Returns {invariant: true | false | null, why: text}; null when the table says nothing (a custom layer
 * list, an unknown method, or a channel count the answer depends on and the spec does not fix).
 * The table assumes iid Gaussian initialization and L2 weight decay; every translation claim needs
 * circular padding with stride 1, so without them translation is expected not invariant.
 */
export function expectedVerdict(arm, group) {
  const { arch, method } = arm;
  if (!GROUPS.includes(group)) return { invariant: null, why: 'not a group of DESIGN 2.2' };
  if (!['fcn', 'lcn', 'cnn-vec', 'cnn-gap'].includes(arch)) {
    return { invariant: null, why: 'DESIGN 2.2 covers the four archs, not custom layer lists' };
  }
  if (!SGD_LIKE.has(method) && method !== 'adam') return { invariant: null, why: 'unknown inference method' };
  const C = Number.isInteger(arm.channels) ? arm.channels : null;
  const C1 = C === null ? null : C === 1;
  const dependsOnC = (group === 'local-orthogonal' || group === 'channel-orthogonal') && C1 === null;

  if (group === 'translation' && arch !== 'fcn') {
    const strides = Array.isArray(arm.stride) ? arm.stride : [arm.stride === undefined ? 1 : arm.stride];
    if (arm.padding !== 'circular' || strides.some((s) => s !== 1)) {
      return { invariant: false, why: 'translation needs circular padding with stride 1 (padding ' +
        (arm.padding || '?') + ', stride ' + strides.join('x') + ')' };
    }
  }
  const kernel = KERNEL.has(method);
  if (dependsOnC && !(arch === 'fcn' && method !== 'adam')) {
    // fcn without Adam is invariant whatever C; elsewhere one channel changes the answer
    const base = sgdGroup(arch, kernel, false)[group];
    const c1 = sgdGroup(arch, kernel, true)[group] && (method !== 'adam' || isSignedPermutation(group, true));
    const cn = base && (method !== 'adam' || isSignedPermutation(group, false));
    if (c1 === cn) return { invariant: c1, why: row(arch, method) };
    return { invariant: null, why: 'depends on the channel count C, which the spec does not fix' };
  }
  let inv = sgdGroup(arch, kernel, C1 === true)[group];
  let why = row(arch, method);
  if (method === 'adam' && inv && !isSignedPermutation(group, C1 === true)) {
    inv = false;
    why = 'Adam is equivariant only under signed permutations of the coordinates (DESIGN 2.2)';
  }
  return { invariant: inv, why };
}

function row(arch, method) {
  if (method === 'adam') return arch + ' + adam: the (' + arch + ', sgd) group intersected with signed permutations';
  if (arch === 'cnn-vec') return 'cnn-vec + ' + method + (KERNEL.has(method) ? ' (infinite width = lcn)' : ' (finite width: weight sharing)');
  return arch + ' + ' + method;
}

/**
 * What the expectation needs from the resolved spec for `armId` ("data/model/inference"): the model's
 * arch, padding and stride, the inference method and the data's channel count (1 for fashion-mnist and
 * mnist, the last entry of `shape` for synthetic sources, unknown for npy). Unknown parts are undefined.
 */
export function armTraits(spec, armId) {
  const [d, m, i] = String(armId).split('/');
  const data = asList(spec && spec.data).find((x) => x && x.name === d) || {};
  const model = asList(spec && spec.models).find((x) => x && x.name === m) || {};
  const inf = asList(spec && spec.inference).find((x) => x && x.name === i) || {};
  let channels = null;
  if (data.source === 'fashion-mnist' || data.source === 'mnist') channels = 1;
  else if (Array.isArray(data.shape) && data.shape.length >= 2) channels = data.shape[data.shape.length - 1];
  return { arch: model.layers ? undefined : model.arch, padding: model.padding, stride: model.stride,
    method: inf.method, channels };
}
