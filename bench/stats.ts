/** Small helpers shared by the benchmarks: timing loops, percentiles, and a result table. */

export function median(values: number[]): number {
  return percentile(values, 50)
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y)
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index] ?? Number.NaN
}

export function printTable(title: string, rows: [string, number, number, number, string][]): void {
  console.log(`\n${title}`)
  console.log('| case | genlock | peer | ratio | goal |')
  console.log('|---|---:|---:|---:|---|')
  for (const [name, ours, peer, ratio, goal] of rows) {
    console.log(
      `| ${name} | ${Math.round(ours).toLocaleString('en')} | ${Math.round(peer).toLocaleString('en')} | ${ratio.toFixed(2)}x | ${goal} |`,
    )
  }
}
