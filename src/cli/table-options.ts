import { type Command, InvalidArgumentError } from 'commander';
import { DEFAULT_MAX_CATEGORIES } from '../core/training/table-design.ts';
import { DEFAULT_NA_MARKERS } from '../data/na-markers.ts';
import { intOption } from './options.ts';

/**
 * Commander parser for `--na`: comma-separated missing-value markers, replacing the default ones; `--na ''`
 * leaves only empty cells missing. A marker is matched against the whole cell, spaces trimmed, case as given.
 */
export function naOption(value: string): string[] {
  if (value.trim() === '') return [];
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((p) => p === ''))
    throw new InvalidArgumentError(
      `--na must be comma-separated markers (or '' for empty cells only), got '${value}'`,
    );
  return parts;
}

/** The feature-table options `train --table` and `evaluate --table` share, as commander parses them. */
export interface TableOptionValues {
  table?: string;
  target?: string;
  positive?: string;
  id?: string;
  categorical?: string[];
  columns?: string[];
  na?: string[];
  maxCategories?: number;
}

/** The `--na` help text, naming the default markers. */
export const NA_HELP = `cell texts read as missing besides empty cells, replacing the default ${DEFAULT_NA_MARKERS.join(',')}; '' for empty cells only`;

/** Adds the feature-table reading options every table command takes: `--na` and `--max-categories`. */
export function tableReadingOptions(cmd: Command, naHelp = NA_HELP): Command {
  return cmd
    .option('--na <a,b>', naHelp, naOption)
    .option(
      '--max-categories <n>',
      `most levels per categorical column (default ${DEFAULT_MAX_CATEGORIES}): a text column with more is refused unless --categorical names it; a named one keeps its most frequent levels and pools the rest into '(other)'`,
      intOption('--max-categories', 2),
    );
}
