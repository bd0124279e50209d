/**
 * Text helpers of the HTML model report: escaping and locale-independent number formatting. Every formatter
 * shows a non-finite number (NaN when a metric is undefined, e.g. AUC with no positives) as an em dash.
 */

const DASH = '—';
const MINUS = '−';

/** Escapes text for an HTML element body or a double- or single-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Fixed decimals with a typographic minus, e.g. `fixed(-0.0312, 3)` → "−0.031". */
export function fixed(x: number, decimals: number): string {
  if (!Number.isFinite(x)) return DASH;
  const s = x.toFixed(decimals);
  // toFixed gives "-0.000" for tiny negatives; a rounded zero has no sign.
  if (/^-0\.?0*$/.test(s)) return s.slice(1);
  return s.startsWith('-') ? MINUS + s.slice(1) : s;
}

/** Like {@link fixed} but with an explicit "+" on positive values (differences, WoE). */
export function signed(x: number, decimals: number): string {
  const s = fixed(x, decimals);
  return Number.isFinite(x) && !s.startsWith(MINUS) && Number(s) !== 0 ? `+${s}` : s;
}

/** A fraction as a percentage, e.g. `percent(0.1234)` → "12.3%". */
export function percent(fraction: number, decimals = 1): string {
  const s = fixed(fraction * 100, decimals);
  return s === DASH ? s : `${s}%`;
}

/** An integer with thousands separators (comma, whatever the process locale), e.g. "12,345". */
export function integer(n: number): string {
  if (!Number.isFinite(n)) return DASH;
  const s = Math.round(Math.abs(n))
    .toString()
    .replace(/\B(?=(\d{3})+$)/g, ',');
  return n < 0 && s !== '0' ? MINUS + s : s;
}
