import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDoraError } from '../common/errors.js';
import { DAY, GiB, HOUR, KiB, MINUTE, MiB, SECOND, TiB, formatDuration, formatSize, parseDuration, parseSize } from './units.js';

function assertInvalid(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isDoraError(error, 'INVALID_ARGUMENT'), `expected INVALID_ARGUMENT, got ${String(error)}`);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

describe('parseSize()', () => {
  it('parseSize() accepts binary and decimal units', () => {
    assert.equal(parseSize('10KiB'), 10 * KiB);
    assert.equal(parseSize('512MiB'), 512 * MiB);
    assert.equal(parseSize('1GiB'), GiB);
    assert.equal(parseSize('2TiB'), 2 * TiB);
    assert.equal(parseSize('1KB'), 1000);
    assert.equal(parseSize('64MB'), 64_000_000);
    assert.equal(parseSize('3GB'), 3_000_000_000);
    assert.equal(parseSize('1TB'), 1_000_000_000_000);
    assert.equal(parseSize('7B'), 7);
  });

  it('parseSize() reads a bare number as bytes', () => {
    assert.equal(parseSize('4096'), 4096);
    assert.equal(parseSize('0'), 0);
    assert.equal(parseSize(String(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER);
  });

  it('parseSize() accepts fractions that come to whole bytes', () => {
    assert.equal(parseSize('1.5GiB'), 1.5 * GiB);
    assert.equal(parseSize('0.5KiB'), 512);
    assert.equal(parseSize('1.001KB'), 1001);
  });

  it('parseSize() ignores unit case and whitespace around and before the unit', () => {
    assert.equal(parseSize('64mib'), 64 * MiB);
    assert.equal(parseSize('64MIB'), 64 * MiB);
    assert.equal(parseSize(' 64 MiB '), 64 * MiB);
    assert.equal(parseSize('10 kb'), 10_000);
  });

  it('parseSize() rejects negative sizes', () => {
    assertInvalid(() => parseSize('-1'), '"-1" is negative; a size must be 0 or more');
    assertInvalid(() => parseSize('-5MiB'), /"-5MiB" is negative/);
    assert.equal(parseSize('-0'), 0);
  });

  it('parseSize() rejects text that is not a number with a unit', () => {
    for (const text of ['', '   ', 'abc', 'MiB', '1.2.3', '1e3', '+5', '.5KiB', '5.KiB', '0x10', '1,024', '5 MiB extra']) {
      assertInvalid(() => parseSize(text), `${JSON.stringify(text)} is not a size (e.g. 512MiB, 64MB, 4096)`);
    }
  });

  it('parseSize() rejects unknown units, naming the ones it knows', () => {
    assertInvalid(() => parseSize('5M'), '"5M" has an unknown unit "M" (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)');
    assertInvalid(() => parseSize('1PiB'), /unknown unit "PiB"/);
    assertInvalid(() => parseSize('12abc'), /unknown unit "abc"/);
  });

  it('parseSize() rejects fractions of a byte', () => {
    assertInvalid(() => parseSize('1.1KiB'), '"1.1KiB" is not a whole number of bytes');
    assertInvalid(() => parseSize('0.5B'), /not a whole number of bytes/);
    assertInvalid(() => parseSize('1.5'), /not a whole number of bytes/);
  });

  it('parseSize() rejects sizes past Number.MAX_SAFE_INTEGER', () => {
    const tooLarge = `(the limit is ${Number.MAX_SAFE_INTEGER} bytes)`;
    assertInvalid(() => parseSize('9007199254740992'), `"9007199254740992" is too large ${tooLarge}`);
    assertInvalid(() => parseSize('8192TiB'), /is too large/); // exactly 2^53
    assertInvalid(() => parseSize('99999999999999999999999TB'), /is too large/);
  });
});

describe('parseDuration()', () => {
  it('parseDuration() accepts ms, s, m, h and d', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30s'), 30 * SECOND);
    assert.equal(parseDuration('5m'), 5 * MINUTE);
    assert.equal(parseDuration('1h'), HOUR);
    assert.equal(parseDuration('2d'), 2 * DAY);
  });

  it('parseDuration() reads a bare number as milliseconds', () => {
    assert.equal(parseDuration('250'), 250);
    assert.equal(parseDuration('0'), 0);
  });

  it('parseDuration() accepts fractions that come to whole milliseconds, and spaces', () => {
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('1.5m'), 90 * SECOND);
    assert.equal(parseDuration('0.001s'), 1);
    assert.equal(parseDuration(' 30 s '), 30 * SECOND);
  });

  it('parseDuration() rejects negative durations', () => {
    assertInvalid(() => parseDuration('-1s'), '"-1s" is negative; a duration must be 0 or more');
    assertInvalid(() => parseDuration('-100'), /is negative/);
  });

  it('parseDuration() rejects text that is not a number with a unit', () => {
    for (const text of ['', 'abc', 's', '1.2.3s', '1h30m', '1e3', 'PT30S']) {
      assertInvalid(() => parseDuration(text), `${JSON.stringify(text)} is not a duration (e.g. 30s, 500ms)`);
    }
  });

  it('parseDuration() rejects unknown units, including upper case ones', () => {
    assertInvalid(() => parseDuration('5S'), '"5S" has an unknown unit "S" (use ms, s, m, h or d)');
    assertInvalid(() => parseDuration('5min'), /unknown unit "min"/);
    assertInvalid(() => parseDuration('2w'), /unknown unit "w"/);
  });

  it('parseDuration() rejects fractions of a millisecond', () => {
    assertInvalid(() => parseDuration('0.5ms'), '"0.5ms" is not a whole number of milliseconds');
    assertInvalid(() => parseDuration('1.5'), /not a whole number of milliseconds/);
    assertInvalid(() => parseDuration('0.0001s'), /not a whole number of milliseconds/);
  });

  it('parseDuration() rejects durations past Number.MAX_SAFE_INTEGER', () => {
    assertInvalid(() => parseDuration('9007199254740992'), /"9007199254740992" is too large \(the limit is 9007199254740991 milliseconds\)/);
    assertInvalid(() => parseDuration('104249991375d'), /is too large/);
  });
});

describe('formatSize()', () => {
  it('formatSize() writes the largest exact unit, binary unless decimal is shorter', () => {
    assert.equal(formatSize(64 * MiB), '64 MiB');
    assert.equal(formatSize(1536), '1.5 KiB');
    assert.equal(formatSize(1.5 * GiB), '1.5 GiB');
    assert.equal(formatSize(5 * TiB), '5 TiB');
    assert.equal(formatSize(64_000_000), '64 MB');
    assert.equal(formatSize(1000), '1 KB');
    assert.equal(formatSize(1023), '1023 B');
    assert.equal(formatSize(2_048_000), '2000 KiB');
    assert.equal(formatSize(0), '0 B');
    assert.equal(formatSize(123_456_789), '123456789 B');
  });

  it('formatSize() output parses back to the same number of bytes', () => {
    const samples = [0, 1, 999, 1024, 4096, 5 * MiB, 16 * MiB, 1_500_000, 3 * GiB + 512, Number.MAX_SAFE_INTEGER];
    for (let seed = 1; seed < 200; seed++) samples.push((seed * 2_654_435_761) % 2 ** 40);
    for (const bytes of samples) assert.equal(parseSize(formatSize(bytes)), bytes, formatSize(bytes));
  });

  it('formatSize() rejects negative, fractional and unsafe numbers', () => {
    for (const bytes of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1]) {
      assertInvalid(() => formatSize(bytes), /^Cannot format .* as a size: expected a whole number of bytes, 0 or more$/);
    }
  });
});

describe('formatDuration()', () => {
  it('formatDuration() writes the largest exact unit', () => {
    assert.equal(formatDuration(30 * SECOND), '30s');
    assert.equal(formatDuration(100), '100ms');
    assert.equal(formatDuration(1500), '1.5s');
    assert.equal(formatDuration(1234), '1.234s');
    assert.equal(formatDuration(90 * SECOND), '1.5m');
    assert.equal(formatDuration(61 * SECOND), '61s');
    assert.equal(formatDuration(MINUTE), '1m');
    assert.equal(formatDuration(HOUR), '1h');
    assert.equal(formatDuration(2 * DAY), '2d');
    assert.equal(formatDuration(0), '0ms');
  });

  it('formatDuration() output parses back to the same number of milliseconds', () => {
    const samples = [0, 1, 999, 1001, 61_000, 5 * MINUTE + 1, 36 * HOUR, Number.MAX_SAFE_INTEGER];
    for (let seed = 1; seed < 200; seed++) samples.push((seed * 2_654_435_761) % 2 ** 36);
    for (const ms of samples) assert.equal(parseDuration(formatDuration(ms)), ms, formatDuration(ms));
  });

  it('formatDuration() rejects negative, fractional and unsafe numbers', () => {
    for (const ms of [-1, 0.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) {
      assertInvalid(() => formatDuration(ms), /^Cannot format .* as a duration: expected a whole number of milliseconds, 0 or more$/);
    }
  });
});
