// "Did you mean ...?" for misspelt keys and names: the closest candidate by edit distance, if close enough.

/** Levenshtein distance with one rolling row (keys are short; no need for anything cleverer). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (!a.length) return b.length;
  if (!b.length) return a.length;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The candidate closest to `word` (case-insensitive), or undefined when none is plausibly meant:
 * allowed distance grows with length (1 for short words, about a third of the length for long ones),
 * or a shared stem of at least 4 characters.
 */
export function didYouMean(word: string, candidates: string[]): string | undefined {
  const w = word.toLowerCase();
  const limit = Math.max(1, Math.floor(w.length / 3));
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  if (best !== undefined && bestDist <= limit && bestDist < Math.max(w.length, 1)) return best;
  // A shared stem of 4+ characters (`child` / `children`, `hostvars` / `host_vars`) is also a good guess.
  const stem = (c: string): number => {
    let i = 0;
    while (i < w.length && i < c.length && w[i] === c[i]!.toLowerCase()) i++;
    return i;
  };
  const byStem = candidates.filter((c) => stem(c) >= 4).sort((a, b) => stem(b) - stem(a));
  return byStem[0];
}
