// Tag selection (--tags / --skip-tags) with Ansible's special tags: all, always, never, tagged, untagged.

export interface TagFilter {
  tags: string[];
  skipTags: string[];
}

/** Does a task with these (inherited + own) tags run under the filter? */
export function tagsAllow(taskTags: readonly string[], f: TagFilter): boolean {
  const tags = new Set(taskTags);
  const want = f.tags.length === 0 ? ['all'] : f.tags;
  const skip = new Set(f.skipTags);
  // --skip-tags wins over everything, `always` included when it is named.
  if (skip.has('all')) return false;
  if ([...tags].some((t) => skip.has(t))) return false;
  if (skip.has('tagged') && tags.size > 0) return false;
  if (skip.has('untagged') && tags.size === 0) return false;
  const named = (t: string): boolean => want.includes(t);
  if (tags.has('never')) {
    // `never` runs only when it, or one of the task's other tags, is asked for by name.
    return [...tags].some((t) => named(t) && t !== 'all');
  }
  if (tags.has('always')) return true;
  if (named('all')) return true;
  if (named('tagged') && tags.size > 0) return true;
  if (named('untagged') && tags.size === 0) return true;
  return [...tags].some((t) => named(t));
}
