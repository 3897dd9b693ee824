// A play's `hosts:` as the pattern to select with: a template is rendered as Ansible 2.14 renders it,
// with the run's magic vars that need no host (groups, playbook_dir...), the play's vars, its
// vars_files and extra vars (not inventory vars); a list becomes a union.
import { EXIT, ObiamError, isObiamError } from '../errors.js';
import type { Play } from '../load/model.js';
import type { Vars } from '../types.js';
import type { Templater } from '../vars/template.js';

export function renderPlayHosts(templater: Templater, play: Play, extraVars: Vars, magic: Vars = {}): string {
  if (!play.hosts.includes('{{') && !play.hosts.includes('{%')) return play.hosts;
  let value: unknown;
  try {
    value = templater.renderValue(play.hosts, { ...magic, ...play.vars, ...play.varsFromFiles, ...extraVars }, play.location);
  } catch (e) {
    throw new ObiamError('E_PLAY_HOSTS', `the play's hosts ${JSON.stringify(play.hosts)} cannot be rendered: ${isObiamError(e) ? e.message : String(e)}`, {
      location: play.location,
      remedy: 'hosts: is rendered before the play with its vars, vars_files and -e extra vars only (not inventory vars); define the variable there',
      exitCode: EXIT.PARSE,
    });
  }
  return Array.isArray(value) ? value.map(String).join(',') : String(value ?? '');
}
