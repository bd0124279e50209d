import { PALETTE } from './charts.ts';
import { escapeHtml } from './format.ts';

/** The look every self-contained report shares: system fonts, tables, figures, badges, print rules. */
export const BASE_STYLE = `
:root { --fg: #1f2328; --muted: #57606a; --line: #d0d7de; --soft: #f6f8fa; --accent: ${PALETTE.model}; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 12px; }
h2 { font-size: 20px; margin: 36px 0 4px; padding-top: 12px; border-top: 2px solid var(--accent); }
h3 { font-size: 15px; margin: 22px 0 8px; }
p { margin: 6px 0; }
.muted { color: var(--muted); }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: var(--soft); font-weight: 600; border-bottom: 1px solid #afb8c1; white-space: nowrap; }
td.n, th.n { text-align: right; }
table.facts th { background: none; font-weight: 500; color: var(--muted); border-bottom: 1px solid var(--line); }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(470px, 1fr)); gap: 16px 20px; }
figure { margin: 0; padding: 8px; border: 1px solid var(--line); border-radius: 6px; background: #fff;
  break-inside: avoid; page-break-inside: avoid; }
figure svg { display: block; max-width: 100%; height: auto; }
figure.empty h4 { margin: 4px 8px; font-size: 14px; }
figure.empty p { margin: 4px 8px 12px; }
.tables { display: flex; flex-wrap: wrap; gap: 12px 40px; align-items: flex-start; }
.badge { display: inline-block; min-width: 52px; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
  text-align: center; }
.watch { background: #fff8c5; color: #7d4e00; }
footer { margin-top: 40px; font-size: 12px; color: var(--muted); }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
@media print {
  @page { margin: 12mm; }
  body { font-size: 11px; }
  main { max-width: none; padding: 0; }
  .charts { grid-template-columns: 1fr 1fr; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
}
`;

/**
 * The opening of a self-contained report page, up to and including its `<h1>` inside an open `<header>`: every
 * report starts the same way, with its own style sheet.
 */
export function pageStart(title: string, style: string): string[] {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${style}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<header><h1>${escapeHtml(title)}</h1>`,
  ];
}

/** The close of a report page opened by `pageStart` (after its sections): the footer, then the open elements. */
export const PAGE_END: readonly string[] = [
  '<footer>Self-contained report written by repayrisk: charts are inline SVG rendered with vega-lite; nothing is ' +
    'loaded from the network.</footer>',
  '</main>',
  '</body>',
  '</html>',
  '',
];
