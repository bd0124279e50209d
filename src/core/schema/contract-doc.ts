import { describeKind, type TableSpec } from './columns.ts';

/**
 * Renders the data contract as Markdown from the table specs, so docs/data-contract.md cannot drift from the
 * schemas that validate files (a test compares the committed file with this output).
 */
export function renderContractDoc(tables: readonly TableSpec[], intro: string): string {
  const out: string[] = [intro.trim(), ''];
  for (const t of tables) {
    out.push(`## ${t.name}`, '', t.description, '', `Key: ${t.key.map((k) => `\`${k}\``).join(', ')}.`, '');
    out.push('| column | required | allowed values | unit | meaning |', '|---|---|---|---|---|');
    for (const c of t.columns) {
      const req = c.nullable ? 'column required, value may be empty' : 'yes';
      out.push(
        `| \`${c.name}\` | ${req} | ${describeKind(c).replaceAll('|', '\\|')} | ${c.unit ?? ''} | ${c.description} |`,
      );
    }
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
