import { describe, expect, it } from 'vitest';
import { tagsAllow } from '../../src/run/tags.js';

const f = (tags: string[], skipTags: string[] = []) => ({ tags, skipTags });

describe('tagsAllow', () => {
  it('handles all, always, never, tagged and untagged', () => {
    expect(tagsAllow([], f([]))).toBe(true);
    expect(tagsAllow(['never'], f([]))).toBe(false);
    expect(tagsAllow(['never', 'dbg'], f(['dbg']))).toBe(true);
    expect(tagsAllow(['never'], f(['never']))).toBe(true);
    expect(tagsAllow(['always'], f(['x']))).toBe(true);
    expect(tagsAllow(['always'], f(['x'], ['always']))).toBe(false);
    expect(tagsAllow(['a'], f(['tagged']))).toBe(true);
    expect(tagsAllow([], f(['tagged']))).toBe(false);
    expect(tagsAllow([], f(['untagged']))).toBe(true);
    expect(tagsAllow(['a', 'b'], f(['b'], ['a']))).toBe(false);
  });
});
