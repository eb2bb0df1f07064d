/**
 * How much slower than a native run this test run is expected to be: `SCOUTER_TEST_SLOWDOWN`
 * (a number >= 1; default 1). `scripts/cross.sh` sets it for the arm64 runs under qemu-user, where
 * Node runs 10-30 times slower than natively.
 *
 * It scales only the time a test gives something to happen: how long it waits or sleeps, its
 * deadlines, the time-outs and delays it sets on its own test servers and the transports it
 * builds, and the elapsed-time bounds it asserts. What a test asserts about records (counts, bins,
 * means, order) never depends on it, and the library's own defaults are not touched.
 */
export const SLOWDOWN = parseSlowdown(process.env.SCOUTER_TEST_SLOWDOWN)

function parseSlowdown(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 1
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 1) {
    throw new RangeError(`SCOUTER_TEST_SLOWDOWN must be a number >= 1, got ${JSON.stringify(raw)}`)
  }
  return value
}

/** `ms` milliseconds scaled by {@link SLOWDOWN} (rounded to a whole millisecond). */
export function scaled(ms: number): number {
  return Math.round(ms * SLOWDOWN)
}
