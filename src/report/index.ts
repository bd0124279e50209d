/** The HTML model report: `renderModelReport` builds the document, `renderSvg` renders one vega-lite chart. */
export { type RenderSvgOptions, renderSvg } from './charts.ts';
export { renderModelReport } from './html.ts';
export type { KindComparison, ModelReportInput, ReportedModel, ScorecardPointsRow } from './types.ts';
