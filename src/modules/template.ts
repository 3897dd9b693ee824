// template: a controller template rendered with the task's variables (nunjucks, Jinja2-compatible),
// then put at dest exactly like copy's `content` (remote sha1 compare, atomic write).
import { promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { payloadOf, putContent } from './copy.js';
import { fileError } from './remote-file.js';
import { ATTR_PROPS, checkMode, type FileAttrs } from './lib/file-attrs.js';
import type { ModuleDef } from './types.js';
import { fail } from './lib/fail.js';

export interface TemplateArgs extends FileAttrs {
  src: string;
  dest: string;
  backup?: boolean;
  force?: boolean;
  validate?: string;
  follow?: boolean;
  newline_sequence?: '\n' | '\r\n' | '\r';
}

export const templateModule: ModuleDef<TemplateArgs> = {
  name: 'template',
  controllerFiles: [{ arg: 'src', kind: 'templates' }],
  aliases: ['ansible.builtin.template'],
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: {
      src: { type: 'string', minLength: 1 },
      dest: { type: 'string', minLength: 1 },
      ...ATTR_PROPS,
      backup: { type: 'boolean' },
      force: { type: 'boolean' },
      validate: { type: 'string' },
      follow: { type: 'boolean' },
      newline_sequence: { enum: ['\n', '\r\n', '\r'] },
    },
    required: ['src', 'dest'],
    additionalProperties: false,
  },
  async run(args, ctx) {
    const bad = checkMode(args.mode);
    if (bad) return fail(bad);
    if (args.mode === 'preserve') return fail('mode=preserve is not supported by template');
    const src = ctx.findFile('templates', args.src);
    let text: string;
    try {
      text = await fsp.readFile(src, 'utf8');
    } catch {
      throw fileError(ctx, 'E_SRC_MISSING', `Template ${args.src} not found (looked for ${src})`, 'put it under templates/ of the role or next to the playbook');
    }
    // The extra variables Ansible's template module defines for the template.
    const vars = {
      ...ctx.vars,
      template_path: src,
      template_fullpath: path.resolve(src),
      template_destpath: args.dest,
      template_host: hostname(),
      template_run_date: new Date().toISOString(),
      ansible_managed: 'Ansible managed',
    };
    let out = ctx.render(text, vars, src);
    if (args.newline_sequence && args.newline_sequence !== '\n') out = out.replace(/\r?\n/g, args.newline_sequence);
    const res = await putContent(ctx, payloadOf(Buffer.from(out, 'utf8')), {
      dest: args.dest,
      mode: args.mode,
      owner: args.owner,
      group: args.group,
      backup: args.backup,
      force: args.force,
      validate: args.validate,
      srcName: path.basename(args.src),
    });
    return { ...res, src: args.src };
  },
};
