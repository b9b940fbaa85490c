import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDoraError } from '../common/errors.js';
import type { ConfigKeyDeclaration } from './config-types.js';
import { parseConfigEntry, parseConfigValue } from './parse-config-entry.js';
import { MiB } from './units.js';

const description = 'A key for tests.';
const INT: ConfigKeyDeclaration = { type: 'int', default: 1, min: 0, max: 10, description };
const BOOL: ConfigKeyDeclaration = { type: 'bool', default: false, description };
const SIZE: ConfigKeyDeclaration = { type: 'size', default: MiB, min: MiB, description };
const DURATION: ConfigKeyDeclaration = { type: 'duration', default: 1, max: 60_000, description };
const ENUM: ConfigKeyDeclaration = { type: 'enum', values: ['a', 'b'], default: 'a', description };
const LIST: ConfigKeyDeclaration = { type: 'list', default: [], description };
const STRING: ConfigKeyDeclaration = { type: 'string', default: '', description };

function assertInvalid(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isDoraError(error, 'INVALID_ARGUMENT'), `expected INVALID_ARGUMENT, got ${String(error)}`);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

describe('parseConfigValue()', () => {
  it('parseConfigValue() reads every type from text', () => {
    assert.equal(parseConfigValue(INT, ' 7 '), 7);
    assert.equal(parseConfigValue(BOOL, 'true'), true);
    assert.equal(parseConfigValue(BOOL, 'FALSE'), false);
    assert.equal(parseConfigValue(BOOL, '1'), true);
    assert.equal(parseConfigValue(SIZE, '2MiB'), 2 * MiB);
    assert.equal(parseConfigValue(DURATION, '1.5s'), 1500);
    assert.equal(parseConfigValue(ENUM, 'b'), 'b');
    assert.deepEqual(parseConfigValue(LIST, 'x, y,,z '), ['x', 'y', 'z']);
    assert.deepEqual(parseConfigValue(LIST, ''), []);
    assert.equal(parseConfigValue(STRING, ''), '');
  });

  it('parseConfigValue() reads YAML numbers, booleans and arrays', () => {
    assert.equal(parseConfigValue(INT, 3), 3);
    assert.equal(parseConfigValue(BOOL, true), true);
    assert.equal(parseConfigValue(SIZE, 4 * MiB), 4 * MiB);
    assert.equal(parseConfigValue(DURATION, 250), 250);
    assert.deepEqual(parseConfigValue(LIST, ['x', 2]), ['x', '2']);
    assert.equal(parseConfigValue(STRING, 8080), '8080');
  });

  it('parseConfigValue() freezes lists', () => {
    assert.ok(Object.isFrozen(parseConfigValue(LIST, 'a,b')));
    assert.ok(Object.isFrozen(parseConfigValue(LIST, ['a'])));
  });

  it('parseConfigValue() rejects values of the wrong type, quoting them', () => {
    assertInvalid(() => parseConfigValue(INT, 'five'), '"five" is not an integer');
    assertInvalid(() => parseConfigValue(INT, 1.5), '1.5 is not an integer');
    assertInvalid(() => parseConfigValue(INT, '99999999999999999'), /"99999999999999999" is out of range/);
    assertInvalid(() => parseConfigValue(BOOL, 'yes'), '"yes" is not a boolean (true or false)');
    assertInvalid(() => parseConfigValue(SIZE, { a: 1 }), 'a mapping is not a size (e.g. 512MiB, 64MB, 4096)');
    assertInvalid(() => parseConfigValue(DURATION, ['1s']), 'a list is not a duration (e.g. 30s, 500ms)');
    assertInvalid(() => parseConfigValue(ENUM, 'c'), '"c" is not one of a, b');
    assertInvalid(() => parseConfigValue(LIST, 5), '5 is not a list of strings');
    assertInvalid(() => parseConfigValue(LIST, ['a', { b: 1 }]), 'item 2 of the list, a mapping, is not a string');
    assertInvalid(() => parseConfigValue(STRING, true), 'true is not a string');
    assertInvalid(() => parseConfigValue(STRING, null), 'an empty value is not a string');
  });

  it('parseConfigValue() enforces declared bounds in the key\'s unit', () => {
    assertInvalid(() => parseConfigValue(INT, '11'), '"11" is out of range (0 to 10)');
    assertInvalid(() => parseConfigValue(INT, -1), '-1 is out of range (0 to 10)');
    assertInvalid(() => parseConfigValue(SIZE, '1KiB'), '"1KiB" is out of range (at least 1 MiB)');
    assertInvalid(() => parseConfigValue(DURATION, '2m'), '"2m" is out of range (at most 1m)');
    assert.equal(parseConfigValue(INT, '0'), 0);
    assert.equal(parseConfigValue(INT, '10'), 10);
  });
});

describe('parseConfigEntry()', () => {
  it('parseConfigEntry() names the key and where the value came from', () => {
    const entry = { key: 'ufs.timeout', raw: 'abc', origin: 'DORA_UFS_TIMEOUT' } as const;
    assertInvalid(
      () => parseConfigEntry(entry),
      'Cannot read configuration key "ufs.timeout" from DORA_UFS_TIMEOUT: "abc" is not a duration (e.g. 30s, 500ms)',
    );
    assert.equal(parseConfigEntry({ ...entry, raw: '10s' }), 10_000);
  });
});
