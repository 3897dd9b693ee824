import { describe, expect, it } from 'vitest';
import { computeBatches } from '../../src/run/batches.js';

const hosts = (n: number): string[] => Array.from({ length: n }, (_, i) => `h${i + 1}`);

describe('computeBatches', () => {
  it('no serial is one batch', () => {
    expect(computeBatches(hosts(3), [])).toEqual([['h1', 'h2', 'h3']]);
    expect(computeBatches([], [2])).toEqual([]);
  });
  it('a number', () => {
    expect(computeBatches(hosts(5), [2])).toEqual([['h1', 'h2'], ['h3', 'h4'], ['h5']]);
  });
  it('a percentage floors with a minimum of 1', () => {
    expect(computeBatches(hosts(10), ['30%']).map((b) => b.length)).toEqual([3, 3, 3, 1]);
    expect(computeBatches(hosts(3), ['10%']).map((b) => b.length)).toEqual([1, 1, 1]);
  });
  it('a list repeats its last value', () => {
    expect(computeBatches(hosts(9), [1, '50%']).map((b) => b.length)).toEqual([1, 4, 4]);
    expect(computeBatches(hosts(6), [1, 2, 10]).map((b) => b.length)).toEqual([1, 2, 3]);
  });
  it('rejects nonsense', () => {
    expect(() => computeBatches(hosts(2), ['abc'])).toThrow(/invalid serial/);
  });
});
