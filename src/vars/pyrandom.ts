// Python's random.Random(seed) (MT19937 seeded the way CPython 3 seeds from an int or a str), so
// `random(seed=...)` and `shuffle(seed=...)` pick what Ansible picks for the same seed.
import { createHash, randomInt } from 'node:crypto';

export class PyRandom {
  private readonly mt = new Uint32Array(624);
  private index = 625;

  constructor(seed: unknown) {
    this.initByArray(seedKey(seed));
  }

  private initGenrand(s: number): void {
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.index = 624;
  }

  private initByArray(key: number[]): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(624, key.length); k > 0; k--) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = ((mt[i]! ^ Math.imul(prev, 1664525)) + key[j]! + j) >>> 0;
      i++;
      j++;
      if (i >= 624) {
        mt[0] = mt[623]!;
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = 623; k > 0; k--) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = ((mt[i]! ^ Math.imul(prev, 1566083941)) - i) >>> 0;
      i++;
      if (i >= 624) {
        mt[0] = mt[623]!;
        i = 1;
      }
    }
    mt[0] = 0x80000000;
  }

  private genrand(): number {
    const mt = this.mt;
    if (this.index >= 624) {
      for (let k = 0; k < 624; k++) {
        const y = (mt[k]! & 0x80000000) | (mt[(k + 1) % 624]! & 0x7fffffff);
        mt[k] = mt[(k + 397) % 624]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.index = 0;
    }
    let y = mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** getrandbits(k) for k up to 32 (enough for lists and ranges a template handles). */
  private getrandbits(k: number): number {
    if (k <= 0) return 0;
    return this.genrand() >>> (32 - k);
  }

  /** Python's _randbelow_with_getrandbits. */
  randbelow(n: number): number {
    if (n <= 0) return 0;
    const k = Math.floor(Math.log2(n)) + 1;
    let r = this.getrandbits(k);
    while (r >= n) r = this.getrandbits(k);
    return r;
  }

  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.randbelow(i + 1);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }
}

/** The 32-bit words CPython's init_by_array gets for a seed (str: version 2, bytes + sha512). */
function seedKey(seed: unknown): number[] {
  let n: bigint;
  if (typeof seed === 'number' && Number.isInteger(seed)) n = BigInt(Math.abs(seed));
  else if (typeof seed === 'boolean') n = seed ? 1n : 0n;
  else {
    const bytes = Buffer.from(typeof seed === 'string' ? seed : String(seed), 'utf8');
    const all = Buffer.concat([bytes, createHash('sha512').update(bytes).digest()]);
    n = BigInt(`0x${all.toString('hex')}`);
  }
  const key: number[] = [];
  while (n > 0n) {
    key.push(Number(n & 0xffffffffn));
    n >>= 32n;
  }
  return key.length ? key : [0];
}

/** A random index below n: seeded (reproducible as Python) or from the system's CSPRNG. */
export function pickBelow(n: number, seed?: unknown): number {
  if (seed === undefined || seed === null) return randomInt(n);
  return new PyRandom(seed).randbelow(n);
}
