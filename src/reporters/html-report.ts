// The HTML run report (`obiam-run report`): one self-contained page an operator or auditor can open
// from a file or attach to a change ticket. Inline CSS and SVG, no script, no external asset; the
// Content-Security-Policy forbids the page any request. Every string from the record is escaped:
// task names and messages come from playbooks and hosts.
import type { HostCounts, ProbeReport } from '../events/types.js';
import { redact } from '../redact.js';
import type { Journal } from '../state/journal.js';
import type { RecordBatch, RecordResult, RecordTask, RunRecord } from '../state/run-record.js';
import { formatDuration } from './style.js';

export interface ReportInput {
  /** The file the report was made from, shown in the header. */
  source: string;
  record?: RunRecord;
  journal?: Journal;
  /** What the reader should know about the input (e.g. a journal without its run record). */
  notes?: string[];
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and quoted attributes, secrets redacted first. */
export function esc(v: unknown): string {
  return redact(String(v)).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

export const STATUSES = ['ok', 'changed', 'failed', 'unreachable', 'skipped', 'rescued', 'ignored'] as const;
const STATUS_SET = new Set<string>(STATUSES);
/** A class name safe whatever the record says. */
const statusClass = (s: string): string => (STATUS_SET.has(s) ? `st-${s}` : 'st-other');

// Fixed colours for the rolling playbooks' phases (out: warm, back: cool), a palette for any other.
const KNOWN_PHASES: Record<string, string> = {
  gate: '#7b8794', drain: '#e07b39', stop: '#c0392b', prepare: '#9a7d0a', unpack: '#8e44ad', 'carry over': '#a569bd', configure: '#b7950b',
  storage: '#6c7a89', start: '#2e86c1', healthy: '#17a589', ready: '#28b463', 'roll back': '#922b21', 'full stop': '#641e16',
};
const PHASE_COLORS = ['#5d6d7e', '#d35400', '#1abc9c', '#af7ac5', '#f1948a', '#5dade2', '#45b39d', '#dc7633'];

const baseName = (file: string): string => (file.split('/').pop() ?? file).replace(/\.ya?ml$/i, '');

/**
 * The roll phase a task belongs to, as the rolling playbooks are laid out: the service role's
 * drain/start/wait/ready files, a `service` task that stops, the upgrade role's steps. Any other
 * task is named by its tasks file (when not main.yml) or its role. Includes carry no phase of
 * their own (their tasks do).
 */
export function phaseOf(t: Pick<RecordTask, 'name' | 'module' | 'role' | 'file'>): string | undefined {
  if (t.module === 'include_tasks' || t.module === 'meta') return undefined;
  const file = t.file ? baseName(t.file) : '';
  if ((t.module === 'service' || t.module === 'systemd') && /\bstop/i.test(t.name)) return 'stop';
  if (t.role === 'service') {
    const byFile: Record<string, string> = { drain: 'drain', start: 'start', wait: 'healthy', ready: 'ready', precheck: 'gate' };
    if (byFile[file]) return byFile[file];
    if (file === 'restart') return undefined;
  }
  if (t.role === 'upgrade') {
    const byFile: Record<string, string> = { 'back-to-previous': 'roll back', 'carry-over': 'carry over', main: 'prepare', 'full-stop': 'full stop' };
    if (byFile[file]) return byFile[file];
  }
  const byRole: Record<string, string> = { product: 'unpack', configure: 'configure', shared_storage: 'storage' };
  if (t.role && byRole[t.role]) return byRole[t.role];
  if (file && file !== 'main') return file;
  return t.role ?? 'tasks';
}

export interface PhaseSpan {
  phase: string;
  start: number;
  end: number;
  tasks: number;
  failed: boolean;
}

/** A batch's phases in the order it went through them: consecutive tasks of one phase merged. */
export function batchPhases(record: RunRecord, b: RecordBatch): PhaseSpan[] {
  const end = b.end ?? Infinity;
  const hosts = new Set(b.hosts);
  const byTask = resultsByTask(record);
  const spans: PhaseSpan[] = [];
  for (const t of record.tasks) {
    if (t.play !== b.play || t.start < b.start || t.start > end) continue;
    const rs = (byTask.get(t.id) ?? []).filter((r) => hosts.has(r.host) && r.status !== 'skipped');
    const phase = rs.length ? phaseOf(t) : undefined;
    if (!phase) continue;
    const start = Math.min(...rs.map((r) => r.start));
    const stop = Math.max(...rs.map((r) => r.end));
    const failed = rs.some((r) => r.status === 'failed' || r.status === 'unreachable');
    const last = spans[spans.length - 1];
    if (last && last.phase === phase) {
      last.end = Math.max(last.end, stop);
      last.tasks++;
      last.failed ||= failed;
    } else spans.push({ phase, start, end: stop, tasks: 1, failed });
  }
  return spans;
}

const cache = new WeakMap<RunRecord, Map<number, RecordResult[]>>();
function resultsByTask(record: RunRecord): Map<number, RecordResult[]> {
  let m = cache.get(record);
  if (!m) {
    m = new Map();
    for (const r of record.results) {
      const list = m.get(r.task) ?? [];
      list.push(r);
      m.set(r.task, list);
    }
    cache.set(record, m);
  }
  return m;
}

// ---- time axis ----

const STEPS = [100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000];

function offsetLabel(ms: number, step: number): string {
  if (ms < 60_000) return step < 1000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s / 60}m`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

interface Axis {
  t0: number;
  span: number;
  x0: number;
  width: number;
  x(t: number): number;
}

function axis(t0: number, t1: number, x0: number, width: number): Axis {
  const span = Math.max(1, t1 - t0);
  return { t0, span, x0, width, x: (t) => x0 + ((t - t0) / span) * width };
}

/** Grid lines and labels every nice step along the axis, from y1 to y2. */
function grid(a: Axis, y1: number, y2: number): string {
  const step = STEPS.find((s) => a.span / s <= a.width / 90) ?? STEPS[STEPS.length - 1]!;
  const out: string[] = [];
  for (let t = 0; t <= a.span; t += step) {
    const x = a.x(a.t0 + t).toFixed(1);
    out.push(`<line class="grid" x1="${x}" x2="${x}" y1="${y1}" y2="${y2}"/><text class="tick" x="${x}" y="${y1 - 4}">+${offsetLabel(t, step)}</text>`);
  }
  return out.join('');
}

const fit = (text: string, px: number): string => {
  const n = Math.floor(px / 6.4);
  return text.length <= n ? text : n > 2 ? `${text.slice(0, n - 1)}…` : '';
};

const iso = (t: number | undefined): string => (t === undefined || !Number.isFinite(t) ? '?' : new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'));
const dur = (a: number, b: number | undefined): string => (b === undefined ? 'not finished' : formatDuration(b - a));
const taskLabel = (t: RecordTask): string => (t.role ? `${t.role} : ${t.name}` : t.name);

// ---- sections ----

function hostOrder(record: RunRecord): string[] {
  const seen = new Set<string>();
  for (const p of record.plays) for (const h of p.hosts) seen.add(h);
  for (const r of record.results) seen.add(r.host);
  return [...seen];
}

function header(input: ReportInput): string {
  const r = input.record;
  const j = input.journal;
  const status = r?.status ?? j?.status ?? 'unknown';
  const exit = r?.exitCode ?? j?.exitCode;
  const rows: [string, string][] = [
    ['status', `<span class="badge status-${esc(status.replace(/[^a-z]/g, ''))}">${esc(status)}</span>${exit !== undefined ? ` exit code ${esc(exit)}` : ''}${r?.check ? ' <span class="badge">check mode</span>' : ''}`],
    ['command', `<code>${esc(r?.command ?? j?.command ?? '?')}</code>`],
    ['playbooks', esc((r?.playbooks ?? j?.playbooks ?? []).join(', '))],
    ['inventory', esc((r?.inventories ?? j?.inventories ?? []).join(', '))],
    ['started', r ? esc(iso(r.start)) : esc(j?.startedAt ?? '?')],
    ['ended', r ? `${esc(iso(r.end))}${r.end !== undefined ? ` (took ${esc(formatDuration(r.end - r.start))})` : ''}` : esc(j?.updatedAt ?? '?')],
    ['controller', esc(`${r?.hostname ?? j?.hostname ?? '?'}, pid ${r?.pid ?? j?.pid ?? '?'}`)],
    ['made from', `<code>${esc(input.source)}</code>`],
  ];
  const notes = (input.notes ?? []).map((n) => `<p class="note">${esc(n)}</p>`).join('');
  return `<header><h1>obiam-run report</h1><table class="meta">${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</table>${notes}</header>`;
}

function recapTable(record: RunRecord): string {
  const hosts = hostOrder(record);
  const counts = new Map<string, HostCounts>();
  if (record.recap) for (const [h, c] of Object.entries(record.recap)) counts.set(h, c);
  else {
    for (const r of record.results) {
      const c = counts.get(r.host) ?? { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
      if (r.status === 'changed') c.ok++;
      if (STATUS_SET.has(r.status)) c[r.status as keyof HostCounts]++;
      counts.set(r.host, c);
    }
  }
  const cols = ['ok', 'changed', 'unreachable', 'failed', 'skipped', 'rescued', 'ignored'] as const;
  const body = hosts
    .map((h) => {
      const c = counts.get(h);
      const bad = c && (c.failed > 0 || c.unreachable > 0);
      return `<tr class="recap-row${bad ? ' bad' : ''}" data-host="${esc(h)}"><th>${esc(h)}</th>${cols.map((k) => `<td class="${c && c[k] > 0 ? `st-${k}-text` : 'zero'}">${c ? c[k] : 0}</td>`).join('')}</tr>`;
    })
    .join('');
  return `<section id="recap"><h2>Recap${record.recap ? '' : ' (counted from the results: the run did not finish)'}</h2><table class="grid-table"><tr><th>host</th>${cols.map((k) => `<th>${k}</th>`).join('')}</tr>${body}</table></section>`;
}

const LEGEND = `<p class="legend">${STATUSES.map((s) => `<span class="swatch ${statusClass(s)}"></span>${s}`).join(' ')}</p>`;

function timeline(record: RunRecord): string {
  const hosts = hostOrder(record);
  if (record.results.length === 0) return `<section id="timeline"><h2>Timeline</h2><p>No task results were recorded.</p></section>`;
  const t1 = Math.max(record.end ?? 0, ...record.results.map((r) => r.end), ...record.plays.map((p) => p.end ?? 0));
  const label = 170;
  const width = 1200;
  const top = 44;
  const rowH = 24;
  const a = axis(record.start, t1, label, width - label - 16);
  const height = top + hosts.length * rowH + 10;
  const tasks = new Map(record.tasks.map((t) => [t.id, t]));
  const out: string[] = [`<svg class="timeline" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="task timeline per host">`];
  out.push(grid(a, top - 6, height - 6));
  record.plays.forEach((p, i) => {
    const x = a.x(p.start);
    const next = record.plays[i + 1];
    const room = (next ? a.x(next.start) : label + a.width) - x;
    out.push(`<g class="play-mark"><line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="6" y2="${height - 6}"/><text x="${(x + 3).toFixed(1)}" y="14">${esc(fit(p.name, room - 6))}<title>${esc(`play: ${p.name} (${dur(p.start, p.end)})`)}</title></text></g>`);
  });
  const rowOf = new Map(hosts.map((h, i) => [h, i]));
  hosts.forEach((h, i) => {
    const y = top + i * rowH;
    out.push(`<g class="host-row" data-host="${esc(h)}"><rect class="row-bg${i % 2 ? '' : ' odd'}" x="0" y="${y}" width="${width}" height="${rowH}"/><text class="host-label" x="6" y="${y + 16}">${esc(fit(h, label - 10))}</text>`);
    for (const r of record.results) {
      if (rowOf.get(r.host) !== i) continue;
      const t = tasks.get(r.task);
      const name = t ? taskLabel(t) : `task ${r.task}`;
      const x = a.x(r.start);
      const w = Math.max(1.5, a.x(r.end) - x);
      const tip = [`${h} · ${name}`, `${r.status}, ${formatDuration(r.end - r.start)}, at +${formatDuration(r.start - record.start)}`, r.delegatedTo ? `on ${r.delegatedTo}` : '', r.items ? `${r.items} loop items` : '', r.msg ?? ''].filter(Boolean).join('\n');
      const text = w > 24 ? fit(t?.name ?? name, w - 6) : '';
      out.push(
        `<g class="task ${statusClass(r.status)}" data-task="${esc(name)}" data-status="${esc(r.status)}" data-ms="${r.end - r.start}"><title>${esc(tip)}</title><rect x="${x.toFixed(1)}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" rx="2"/>${text ? `<text x="${(x + 3).toFixed(1)}" y="${y + 16}">${esc(text)}</text>` : ''}</g>`,
      );
    }
    out.push('</g>');
  });
  out.push('</svg>');
  return `<section id="timeline"><h2>Timeline of tasks per host</h2>${LEGEND}<p class="hint">Each bar is one task on one host, as long as it took; hover for its name, status, duration and message.</p><div class="scroll">${out.join('')}</div></section>`;
}

const phaseColor = (phase: string, order: string[]): string => KNOWN_PHASES[phase] ?? PHASE_COLORS[Math.max(0, order.indexOf(phase)) % PHASE_COLORS.length]!;

function roll(record: RunRecord, journal?: Journal): string {
  const plays = record.plays.map((p, i) => ({ p, i })).filter(({ p }) => p.serial);
  if (plays.length === 0) return '';
  const parts: string[] = ['<section id="roll"><h2>Roll: node by node</h2>'];
  for (const { p, i } of plays) {
    const batches = record.batches.filter((b) => b.play === i);
    const spans = batches.map((b) => batchPhases(record, b));
    const names = [...new Set(spans.flat().map((s) => s.phase))];
    const end = Math.max(p.end ?? 0, ...batches.map((b) => b.end ?? 0), ...spans.flat().map((s) => s.end));
    const label = 170;
    const width = 1200;
    const top = 30;
    const rowH = 28;
    const a = axis(p.start, Math.max(end, p.start + 1), label, width - label - 16);
    const height = top + Math.max(1, batches.length) * rowH + 8;
    const svg: string[] = [`<svg class="roll-chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="roll phases per batch">`, grid(a, top - 6, height - 4)];
    batches.forEach((b, k) => {
      const y = top + k * rowH;
      const who = b.hosts.join(', ');
      svg.push(`<g class="batch-row" data-hosts="${esc(who)}"><text class="host-label" x="6" y="${y + 18}">${esc(fit(`${b.batch}/${b.batches} ${who}`, label - 10))}<title>${esc(`batch ${b.batch} of ${b.batches}: ${who}`)}</title></text>`);
      for (const s of spans[k]!) {
        const x = a.x(s.start);
        const w = Math.max(2, a.x(s.end) - x);
        const text = fit(s.phase, w - 6);
        svg.push(
          `<g class="phase${s.failed ? ' phase-failed' : ''}" data-phase="${esc(s.phase)}"><title>${esc(`${who} · ${s.phase}: ${formatDuration(s.end - s.start)} (${s.tasks} task${s.tasks === 1 ? '' : 's'})${s.failed ? ', FAILED' : ''}`)}</title><rect x="${x.toFixed(1)}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" rx="3" fill="${phaseColor(s.phase, names)}"/>${text ? `<text x="${(x + 3).toFixed(1)}" y="${y + 18}">${esc(text)}</text>` : ''}</g>`,
        );
      }
      svg.push('</g>');
    });
    svg.push('</svg>');
    const rows = batches
      .map((b, k) => {
        const outcome = b.end === undefined ? '<span class="st-unfinished-text">not finished</span>' : b.failed?.length ? `<span class="st-failed-text">failed: ${esc(b.failed.join(', '))}</span>` : '<span class="st-ok-text">done</span>';
        const steps = spans[k]!.map((s) => `<li data-phase="${esc(s.phase)}"${s.failed ? ' class="phase-failed"' : ''}><span class="swatch" style="background:${phaseColor(s.phase, names)}"></span>${esc(s.phase)} ${esc(formatDuration(s.end - s.start))}</li>`).join('');
        return `<tr class="batch" data-hosts="${esc(b.hosts.join(', '))}"><td>${b.batch}/${b.batches}</td><th>${esc(b.hosts.join(', '))}</th><td><ol class="phases">${steps || '<li>no task ran</li>'}</ol></td><td>${esc(dur(b.start, b.end))}</td><td>${outcome}</td></tr>`;
      })
      .join('');
    const jp = journal?.plays.find((x) => x.index === p.index && x.name === p.name);
    const jline = jp ? `<p class="journal-line">Roll journal: done ${esc(jp.done.join(', ') || '(none)')}${jp.failed.length ? `; failed ${esc(jp.failed.join(', '))}` : ''}${jp.current ? `; stopped in batch ${jp.current.batch} (${esc(jp.current.hosts.join(', '))}) at ${esc(jp.current.task ?? 'its start')}` : ''}</p>` : '';
    parts.push(
      `<h3>${esc(p.name)} <small>${esc(dur(p.start, p.end))}</small></h3>${jline}<div class="scroll">${svg.join('')}</div><table class="grid-table roll-table"><tr><th>batch</th><th>hosts</th><th>phases in order</th><th>took</th><th>outcome</th></tr>${rows}</table>`,
    );
  }
  parts.push('</section>');
  return parts.join('');
}

interface Point {
  t: number;
  requests: number;
  failed: number;
}

/** At most `max` points: longer probes are averaged per group of seconds (per-second rates kept). */
function points(r: ProbeReport, max = 600): Point[] {
  const s = (r.samples ?? []).filter((x) => Number.isFinite(x.t));
  if (s.length <= max) return s.map((x) => ({ t: x.t, requests: x.requests, failed: x.failed }));
  const k = Math.ceil(s.length / max);
  const out: Point[] = [];
  for (let i = 0; i < s.length; i += k) {
    const g = s.slice(i, i + k);
    out.push({ t: g[0]!.t, requests: Math.round((g.reduce((n, x) => n + x.requests, 0) / g.length) * 10) / 10, failed: Math.round((g.reduce((n, x) => n + x.failed, 0) / g.length) * 10) / 10 });
  }
  return out;
}

function probes(record: RunRecord): string {
  if (record.probes.length === 0) return '';
  const parts: string[] = ['<section id="probe"><h2>Load probe: requests and errors per second</h2>'];
  record.probes.forEach(({ name, report: r }, n) => {
    const kinds = Object.entries(r.failures ?? {}).map(([k, v]) => `${k} ×${v}`);
    const nodes = Object.entries(r.perNode ?? {}).sort(([x], [y]) => x.localeCompare(y)).map(([k, v]) => `${k} ${v}`);
    parts.push(
      `<h3>${esc(name)}</h3><p class="probe-summary" data-requests="${r.requests}" data-failed="${r.failed}">${esc(`${r.requests} requests through ${r.url} in ${formatDuration(r.durationMs)}: ${r.failed} failed${kinds.length ? ` (${kinds.join(', ')})` : ''}; ${r.sessionsMoved} sticky session${r.sessionsMoved === 1 ? '' : 's'} moved${nodes.length ? `; answered per node: ${nodes.join(', ')}` : ''}`)}</p>`,
    );
    const pts = points(r);
    if (pts.length === 0) {
      parts.push('<p>This probe recorded no per-second samples (a record from an older version).</p>');
      return;
    }
    const label = 70;
    const width = 1200;
    const top = 24;
    const mainH = 180;
    const gap = 30;
    const errH = 60;
    const height = top + mainH + gap + errH + 10;
    const step = pts.length > 1 ? pts[1]!.t - pts[0]!.t : 1000;
    const a = axis(pts[0]!.t, pts[pts.length - 1]!.t + step, label, width - label - 16);
    const maxReq = Math.max(1, ...pts.map((p) => p.requests / (step / 1000)));
    const maxErr = Math.max(1, ...pts.map((p) => p.failed / (step / 1000)));
    const yReq = (v: number): number => top + mainH - (v / maxReq) * mainH;
    const yErr = (v: number): number => top + mainH + gap + errH - (v / maxErr) * errH;
    const svg: string[] = [`<svg class="probe-chart" data-probe="${n}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="requests and errors per second">`];
    // Which node was out while the probe ran: the serial batches behind the curve.
    let band = 0;
    for (const b of record.batches) {
      if (!record.plays[b.play]?.serial) continue;
      band++;
      const x1 = Math.max(a.x0, a.x(b.start));
      const x2 = Math.min(a.x0 + a.width, a.x(b.end ?? a.t0 + a.span));
      if (x2 <= x1) continue;
      svg.push(`<g class="probe-batch${band % 2 ? '' : ' even'}"><rect x="${x1.toFixed(1)}" y="${top}" width="${(x2 - x1).toFixed(1)}" height="${mainH + gap + errH}"/><text x="${(x1 + 3).toFixed(1)}" y="${top + 12}">${esc(fit(b.hosts.join(', '), x2 - x1 - 6))}</text><title>${esc(`batch ${b.batch}/${b.batches}: ${b.hosts.join(', ')} (${dur(b.start, b.end)})`)}</title></g>`);
    }
    svg.push(grid(a, top - 6, height - 6));
    svg.push(`<text class="axis-label" x="4" y="${top + 10}">${Math.round(maxReq)} req/s</text><text class="axis-label" x="4" y="${top + mainH}">0</text>`);
    svg.push(`<text class="axis-label err" x="4" y="${top + mainH + gap + 10}">${Math.round(maxErr)} err/s</text><text class="axis-label err" x="4" y="${top + mainH + gap + errH}">0</text>`);
    svg.push(`<line class="baseline" x1="${label}" x2="${label + a.width}" y1="${top + mainH}" y2="${top + mainH}"/><line class="baseline" x1="${label}" x2="${label + a.width}" y1="${top + mainH + gap + errH}" y2="${top + mainH + gap + errH}"/>`);
    const xy = pts.map((p) => `${a.x(p.t + step / 2).toFixed(1)},${yReq(p.requests / (step / 1000)).toFixed(1)}`);
    svg.push(`<polyline class="rps-line" points="${xy.join(' ')}"/>`);
    const bw = Math.max(1, (a.width / pts.length) * 0.8);
    for (const p of pts) {
      const rate = p.requests / (step / 1000);
      const err = p.failed / (step / 1000);
      const cx = a.x(p.t + step / 2);
      const tip = `${iso(p.t)} (+${formatDuration(p.t - record.start)}): ${rate} requests/s, ${err} failed/s`;
      svg.push(`<circle class="rps-point" cx="${cx.toFixed(1)}" cy="${yReq(rate).toFixed(1)}" r="2.5" data-t="${p.t}" data-requests="${rate}" data-failed="${err}"><title>${esc(tip)}</title></circle>`);
      if (p.failed > 0) svg.push(`<rect class="err-bar" x="${(cx - bw / 2).toFixed(1)}" y="${yErr(err).toFixed(1)}" width="${bw.toFixed(1)}" height="${(top + mainH + gap + errH - yErr(err)).toFixed(1)}" data-t="${p.t}" data-failed="${err}"><title>${esc(tip)}</title></rect>`);
    }
    svg.push('</svg>');
    parts.push(`<p class="hint">Blue: requests answered per second (hover a point for its numbers); red, below: failed requests per second. Shaded: the node(s) out of the load balancer in each batch.${step > 1000 ? ` Each point averages ${step / 1000} s.` : ''}</p><div class="scroll">${svg.join('')}</div>`);
  });
  parts.push('</section>');
  return parts.join('');
}

function problems(record: RunRecord): string {
  const bad = record.results.filter((r) => r.status === 'failed' || r.status === 'unreachable');
  const tasks = new Map(record.tasks.map((t) => [t.id, t]));
  const warn = record.warnings.length ? `<h3>Warnings</h3><ul class="warnings">${record.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : '';
  if (bad.length === 0) return `<section id="problems"><h2>Failures</h2><p>No task failed and no host was unreachable.</p>${warn}</section>`;
  const rows = bad
    .map((r) => {
      const t = tasks.get(r.task);
      return `<tr class="failure"><th>${esc(r.host)}</th><td>${esc(t ? taskLabel(t) : r.task)}${t?.file ? `<br><small>${esc(`${t.file}:${t.line ?? '?'}`)}</small>` : ''}</td><td class="${statusClass(r.status)}-text">${esc(r.status)}</td><td>+${esc(formatDuration(r.start - record.start))}</td><td><pre>${esc(r.msg ?? '')}</pre></td></tr>`;
    })
    .join('');
  return `<section id="problems"><h2>Failures</h2><table class="grid-table"><tr><th>host</th><th>task</th><th>status</th><th>at</th><th>message</th></tr>${rows}</table>${warn}</section>`;
}

function perHost(record: RunRecord): string {
  const tasks = new Map(record.tasks.map((t) => [t.id, t]));
  const blocks = hostOrder(record).map((h) => {
    const rs = record.results.filter((r) => r.host === h);
    const rows = rs
      .map((r) => {
        const t = tasks.get(r.task);
        const play = t ? record.plays[t.play]?.name : undefined;
        return `<tr><td>${esc(play ?? '')}</td><td>${esc(t ? taskLabel(t) : r.task)}</td><td class="${statusClass(r.status)}-text">${esc(r.status)}</td><td>+${esc(formatDuration(r.start - record.start))}</td><td>${esc(formatDuration(r.end - r.start))}</td><td>${esc(r.msg ?? '')}</td></tr>`;
      })
      .join('');
    return `<details class="host-detail" data-host="${esc(h)}"><summary>${esc(h)}: ${rs.length} results</summary><table class="grid-table"><tr><th>play</th><th>task</th><th>status</th><th>start</th><th>took</th><th>message</th></tr>${rows}</table></details>`;
  });
  return `<section id="hosts"><h2>Every task, per host</h2>${blocks.join('')}</section>`;
}

function journalOnly(j: Journal): string {
  const rows = j.plays
    .map((p) => `<tr class="journal-play"><th>${esc(p.name)}</th><td>${p.serial ? 'serial' : ''}</td><td>${esc(p.done.join(', ') || '(none)')}</td><td class="${p.failed.length ? 'st-failed-text' : ''}">${esc(p.failed.join(', '))}</td><td>${p.current ? esc(`batch ${p.current.batch}/${p.current.batches}: ${p.current.hosts.join(', ')} at ${p.current.task ?? 'its start'}`) : ''}</td></tr>`)
    .join('');
  return `<section id="journal"><h2>Roll journal</h2><table class="grid-table"><tr><th>play</th><th></th><th>hosts done</th><th>failed</th><th>in progress when it stopped</th></tr>${rows}</table></section>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 24px 40px;color:#1d2630;background:#fff}
h1{font-size:22px;margin:18px 0 8px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d5dbe1;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
code,pre{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}pre{margin:0;white-space:pre-wrap;word-break:break-word;max-width:640px}
table.meta th{text-align:left;padding:1px 14px 1px 0;color:#52606d;font-weight:600}
.grid-table{border-collapse:collapse;margin:6px 0}.grid-table th,.grid-table td{border:1px solid #d5dbe1;padding:3px 8px;text-align:left;vertical-align:top}
.grid-table tr:first-child th{background:#f1f4f7}.recap-row td{text-align:right}.recap-row.bad th{color:#b71c1c}.zero{color:#9aa5b1}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:6px 10px;max-width:900px}
.badge{display:inline-block;padding:0 8px;border-radius:9px;background:#e4e7eb;font-weight:600}
.status-done{background:#c8ecd0;color:#14532d}.status-failed{background:#f9d0d0;color:#7f1d1d}.status-interrupted,.status-running{background:#fde9c0;color:#7a4b00}
.scroll{overflow-x:auto;border:1px solid #e4e7eb;border-radius:4px}
svg text{font:11px system-ui,sans-serif;fill:#1d2630}svg .tick{fill:#7b8794;font-size:10px}svg .grid{stroke:#e4e7eb}
.row-bg{fill:transparent}.row-bg.odd{fill:#f4f6f8}.host-label{font-weight:600}
.play-mark line{stroke:#52606d;stroke-dasharray:3 3}.play-mark text{font-weight:600;fill:#3e4c59}
.task text,.phase text{fill:#fff;pointer-events:none}.task:hover rect,.phase:hover rect{stroke:#111;stroke-width:1.5}
.st-ok rect{fill:#3fa34d}.st-changed rect{fill:#e0a100}.st-changed text{fill:#1d2630}.st-failed rect{fill:#d62828}.st-unreachable rect{fill:#7b2cbf}
.st-skipped rect{fill:#b8c2cc}.st-skipped text{fill:#1d2630}.st-rescued rect{fill:#2b7bb9}.st-ignored rect{fill:#c77d3a}.st-other rect{fill:#5d6d7e}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;margin:0 4px 0 10px;vertical-align:-1px}
.swatch.st-ok{background:#3fa34d}.swatch.st-changed{background:#e0a100}.swatch.st-failed{background:#d62828}.swatch.st-unreachable{background:#7b2cbf}.swatch.st-skipped{background:#b8c2cc}.swatch.st-rescued{background:#2b7bb9}.swatch.st-ignored{background:#c77d3a}
.st-ok-text{color:#1e7b34}.st-changed-text{color:#9a6b00}.st-failed-text,.st-unreachable-text{color:#b71c1c;font-weight:600}.st-unfinished-text{color:#7a4b00;font-weight:600}
.phase-failed rect{stroke:#7f0000;stroke-width:2}ol.phases{margin:0;padding:0;list-style:none;display:flex;flex-wrap:wrap;gap:2px 10px}ol.phases li .swatch{margin-left:0}li.phase-failed{color:#b71c1c;font-weight:600}
.probe-batch rect{fill:#eaf1f8}.probe-batch.even rect{fill:#f5f8fb}.probe-batch text{fill:#52606d;font-size:10px}.rps-line{fill:none;stroke:#1f6feb;stroke-width:1.5}.rps-point{fill:#1f6feb}.err-bar{fill:#d62828}.baseline{stroke:#9aa5b1}.axis-label{fill:#52606d;font-size:10px}.axis-label.err{fill:#b71c1c}
.hint,.legend{color:#52606d;margin:4px 0}details.host-detail{margin:4px 0}details summary{cursor:pointer;font-weight:600}
footer{margin-top:32px;color:#7b8794;font-size:12px}
`;

/** The whole page. */
export function buildHtmlReport(input: ReportInput, generatedAt = new Date()): string {
  const r = input.record;
  const title = `obiam-run report: ${(r?.playbooks ?? input.journal?.playbooks ?? []).map((p) => p.split('/').pop()).join(', ')} ${r ? iso(r.start) : (input.journal?.startedAt ?? '')}`;
  const body = r
    ? [header(input), recapTable(r), timeline(r), roll(r, input.journal), probes(r), problems(r), perHost(r)]
    : [header(input), input.journal ? journalOnly(input.journal) : ''];
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    // Nothing may load: no script, no image, no font, no request of any kind.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title><style>${CSS}</style></head><body>`,
    ...body,
    `<footer>Made by obiam-run report at ${esc(iso(generatedAt.getTime()))}. Secrets were redacted when the run wrote its record.</footer>`,
    '</body></html>',
    '',
  ].join('\n');
}
