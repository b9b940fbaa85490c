/**
 * The candidate a mistyped name most likely meant, for "did you mean" hints: the nearest by edit
 * distance (case-insensitive, a swap of two neighbours counts as one edit) when it is close
 * enough, else the one candidate whose last `separator`-part is the whole of `name` (a key
 * written at the wrong level, e.g. `maxAttempts` for `ufs.retry.maxAttempts`). Undefined if none.
 */
export function closestMatch(name: string, candidates: Iterable<string>, separator = '.'): string | undefined {
  const wanted = name.toLowerCase();
  const limit = Math.min(3, Math.max(1, Math.floor(wanted.length / 4)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  const bySuffix: string[] = [];
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
    if (candidate.toLowerCase().endsWith(`${separator}${wanted}`)) bySuffix.push(candidate);
  }
  return best ?? (bySuffix.length === 1 ? bySuffix[0] : undefined);
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, (before[j - 2] ?? 0) + 1);
      }
      current.push(distance);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] ?? 0;
}
