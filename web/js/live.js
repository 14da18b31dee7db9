/* dmilab dashboard: time left of a queued or running experiment, from the dry-run cost estimate
 * (POST ?dry_run=true, DESIGN 4) and the rate measured so far (progress over elapsed time). */
import { api } from './api.js';
import { isNum } from './format.js';

const estimates = new Map(); // experiment id -> estimated seconds (null: not available)

/**
 * Seconds left: before any progress, the estimate minus the time elapsed; once progress p > 0 the measured
 * rate, elapsed * (1 - p) / p, weighted by p against the estimate (early progress is noisy, and the
 * estimate is a rough guide, within about 2x). Returns {seconds, basis: 'estimate'|'rate'|'both'} or null.
 */
export function timeLeft(progress, elapsed, estimate) {
  const p = isNum(progress) ? Math.max(0, Math.min(1, progress)) : 0;
  const fromEst = isNum(estimate) ? Math.max(estimate - elapsed, 0) : null;
  if (p <= 0 || !(elapsed > 0)) return fromEst === null ? null : { seconds: fromEst, basis: 'estimate' };
  const fromRate = elapsed * (1 - p) / p;
  if (fromEst === null) return { seconds: fromRate, basis: 'rate' };
  return { seconds: p * fromRate + (1 - p) * fromEst, basis: 'both' };
}

/** The dry-run estimate of an experiment's spec in seconds (cached; null when the server will not say, e.g.
 *  a token is configured and none is stored: this never prompts). */
export async function estimateOf(exp) {
  if (estimates.has(exp.id)) return estimates.get(exp.id);
  estimates.set(exp.id, null);
  try {
    const r = await api('experiments', { method: 'POST', query: { dry_run: 'true' }, body: exp.spec, noPrompt: true });
    const s = r && r.cost && isNum(r.cost.estimated_seconds) ? r.cost.estimated_seconds : null;
    estimates.set(exp.id, s);
    return s;
  } catch (e) {
    return null;
  }
}

export function knownEstimate(id) {
  return estimates.has(id) ? estimates.get(id) : undefined;
}
