// What the listing commands print: aligned columns, and times to the second in UTC.

/** Rows as aligned columns (two spaces apart, no trailing blanks), without a final newline. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** An ISO time as `2026-11-23 07:00:18Z`, or `-` for none. */
export const when = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');
