/** "Full jitter" exponential backoff: a random delay in [0, min(max, min·2^attempt)). */
export function fullJitterDelayMs(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.max(minMs / 2, Math.floor(random() * ceiling));
}
