import { describeKind, type TableSpec } from './columns.ts';
import type { ContractRule } from './rules.ts';

/**
 * Renders the data contract as Markdown from the table specs, so docs/data-contract.md cannot drift from the
 * schemas that validate files (a test compares the committed file with this output).
 */
export function renderContractDoc(
  tables: readonly TableSpec[],
  intro: string,
  rules: readonly ContractRule[] = [],
  rulesIntro = '',
): string {
  const out: string[] = [intro.trim(), ''];
  for (const t of tables) {
    const key = t.key.length
      ? `Key: ${t.key.map((k) => `\`${k}\``).join(', ')}.`
      : 'No key: identical rows may repeat (each is counted).';
    out.push(`## ${t.name}`, '', t.description, '', key, '');
    out.push('| column | required | allowed values | unit | meaning |', '|---|---|---|---|---|');
    for (const c of t.columns) {
      const req = c.nullable ? 'column required, value may be empty' : 'yes';
      out.push(
        `| \`${c.name}\` | ${req} | ${describeKind(c).replaceAll('|', '\\|')} | ${c.unit ?? ''} | ${c.description} |`,
      );
    }
    out.push('');
  }
  if (rules.length) {
    out.push('## Contract rules', '', rulesIntro.trim(), '');
    out.push(
      '| rule | table | severity | cells | breaks it when | a valid row has |',
      '|---|---|---|---|---|---|',
    );
    for (const r of rules) {
      const cells = r.columns.map((c) => `\`${c}\``).join(', ');
      const esc = (t: string) => t.replaceAll('|', '\\|');
      out.push(
        `| \`${r.id}\` | ${r.table} | ${r.severity} | ${cells} | ${esc(r.message)} | ${esc(r.expected)} |`,
      );
    }
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
