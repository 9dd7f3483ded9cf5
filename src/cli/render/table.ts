/**
 * Lays out rows as aligned columns under a header, two spaces apart; the last column is not padded.
 *
 * @example
 * table(['ID', 'STATE'], [['party', 'running']]) // 'ID     STATE\nparty  running'
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}
