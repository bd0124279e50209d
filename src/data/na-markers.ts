/**
 * Cell texts a feature table reads as missing unless `--na` says otherwise: R's and most exports' markers.
 * A cell is missing when it is empty or, with surrounding spaces trimmed, exactly one of these (case matters:
 * `none` or `na` may be a real category level, so only the spellings listed are markers). A module of its own so
 * the CLI can name the markers in its help without loading the table reader (and DuckDB).
 */
export const DEFAULT_NA_MARKERS: readonly string[] = [
  'NA',
  'N/A',
  'n/a',
  '#N/A',
  'NaN',
  'nan',
  'null',
  'NULL',
  'None',
];
