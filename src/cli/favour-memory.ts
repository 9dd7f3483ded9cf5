import { setFlagsFromString } from 'node:v8'

/**
 * Once the daemon is ready, V8 is asked to favour memory over speed (`--optimize-for-size`): after a burst of
 * 10,000 triggers a daemon on plain `node` keeps ~115 MB instead of ~230 MB (bench/RESULTS.md, footprint). Given
 * on node's command line, as the image did until now, the flag also made every start ~45 ms slower. V8 reads it
 * each time it sizes the heap or picks what to optimize, so given once ready it saves the same memory and costs
 * the start nothing. `node --no-optimize-for-size` (or V8's own spelling, `--no_optimize_for_size`) leaves V8 as it is.
 */
export function favourMemoryFromNowOn(): void {
  if (process.execArgv.some((flag) => flag.replaceAll('_', '-') === '--no-optimize-for-size')) return
  setFlagsFromString('--optimize-for-size')
}
