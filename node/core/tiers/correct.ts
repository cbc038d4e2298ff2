/** Did-you-mean for mistyped command names: Damerau-Levenshtein (optimal string alignment). */

/** Distance between a and b, or max + 1 as soon as it is known to exceed max. */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  if (a === b) return 0;
  const n = b.length;
  let prevPrev = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, prevPrev[j - 2]! + 1);
      cur[j] = d;
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > max) return max + 1;
    [prevPrev, prev, cur] = [prev, cur, prevPrev];
  }
  return prev[n]!;
}

export interface Suggestion {
  name: string;
  distance: number;
  /** Exactly one candidate at this distance (and none closer). */
  unique: boolean;
}

/** Names of one or two letters only get distance-1 suggestions; anything further is noise. */
export function suggest(name: string, candidates: Iterable<string>): Suggestion | undefined {
  const max = name.length <= 3 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = max + 1;
  let count = 0;
  const seen = new Set<string>();
  for (const candidate of candidates) {
    if (candidate === name || seen.has(candidate)) continue;
    seen.add(candidate);
    const d = editDistance(name, candidate, Math.min(max, bestDistance));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
      count = 1;
    } else if (d === bestDistance && d <= max) count++;
  }
  if (best === undefined) return undefined;
  return { name: best, distance: bestDistance, unique: count === 1 };
}
