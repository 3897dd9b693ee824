import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import {
  collect,
  increaseVerbosity,
  isCommanderUsageCode,
  parsePositiveInt,
  parseSecondsToMs,
  parseTags,
  parseVerbosity,
  resolveInventorySources,
  validateHostKeyPolicy,
} from '../../src/cli/options.js';
import { EXIT, ObiamError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'obr-cli-opts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('option parsers', () => {
  it('parseTags splits comma lists across repeats, trims, drops blanks and duplicates', () => {
    expect(parseTags(['a,b', ' c , a', ',,'])).toEqual(['a', 'b', 'c']);
    expect(parseTags(undefined)).toEqual([]);
  });

  it('collect and increaseVerbosity accumulate repeated flags', () => {
    expect(collect('b', collect('a', undefined))).toEqual(['a', 'b']);
    expect(increaseVerbosity('', increaseVerbosity('', increaseVerbosity('', 0)))).toBe(3);
  });

  it('parseVerbosity accepts counts and v-words, caps at 4, rejects junk', () => {
    expect(parseVerbosity(undefined)).toBe(0);
    expect(parseVerbosity(3)).toBe(3);
    expect(parseVerbosity('vvv')).toBe(3);
    expect(parseVerbosity('2')).toBe(2);
    expect(parseVerbosity(9)).toBe(4);
    expect(() => parseVerbosity('loud')).toThrow(InvalidArgumentError);
  });

  it('validateHostKeyPolicy accepts strict and accept-new and names them otherwise', () => {
    expect(validateHostKeyPolicy('strict')).toBe('strict');
    expect(validateHostKeyPolicy('accept-new')).toBe('accept-new');
    expect(() => validateHostKeyPolicy('yes')).toThrow(/allowed values: strict, accept-new/);
  });

  it('parsePositiveInt and parseSecondsToMs validate numbers', () => {
    expect(parsePositiveInt('10')).toBe(10);
    for (const bad of ['0', '-1', '1.5', 'x', '']) expect(() => parsePositiveInt(bad)).toThrow(InvalidArgumentError);
    expect(parseSecondsToMs('2.5')).toBe(2500);
    for (const bad of ['0', '-3', 'soon', ' ']) expect(() => parseSecondsToMs(bad)).toThrow(InvalidArgumentError);
  });

  it('resolveInventorySources uses -i, else inventory/hosts.yml, else a usage error', () => {
    expect(resolveInventorySources(['a.yml', 'h1,h2,'], dir)).toEqual(['a.yml', 'h1,h2,']);
    let err: unknown;
    try {
      resolveInventorySources(undefined, dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ObiamError);
    expect((err as ObiamError).exitCode).toBe(EXIT.BAD_OPTIONS);
    expect((err as ObiamError).message).toContain('inventory/hosts.yml');
    mkdirSync(join(dir, 'inventory'));
    writeFileSync(join(dir, 'inventory', 'hosts.yml'), 'all: {}\n');
    expect(resolveInventorySources([], dir)).toEqual([join(dir, 'inventory', 'hosts.yml')]);
  });

  it('isCommanderUsageCode tells usage errors from help and version', () => {
    expect(isCommanderUsageCode('commander.unknownOption')).toBe(true);
    expect(isCommanderUsageCode('commander.invalidArgument')).toBe(true);
    expect(isCommanderUsageCode('commander.helpDisplayed')).toBe(false);
    expect(isCommanderUsageCode('commander.version')).toBe(false);
  });
});
