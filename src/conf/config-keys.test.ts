import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIG_KEYS, CONFIG_KEY_NAMES, NON_CONFIG_ENV_PREFIXES, NON_CONFIG_ENV_VARS, isConfigKey } from './config-keys.js';
import type { ConfigKeyDeclaration } from './config-types.js';
import { parseConfigValue } from './parse-config-entry.js';
import { envVarName } from './read-config-env.js';

const declarations: [string, ConfigKeyDeclaration][] = Object.entries(CONFIG_KEYS);

describe('CONFIG_KEYS', () => {
  it('every default is a valid value of its own key', () => {
    for (const [key, declaration] of declarations) {
      assert.deepEqual(parseConfigValue(declaration, declaration.default), declaration.default, key);
    }
  });

  it('no key is also a section holding other keys', () => {
    for (const key of CONFIG_KEY_NAMES) {
      const nested = CONFIG_KEY_NAMES.filter((other) => other.startsWith(`${key}.`));
      assert.deepEqual(nested, [], `${key} is both a key and a section`);
    }
  });

  it('every key has its own environment variable, outside the non-configuration ones', () => {
    const names = CONFIG_KEY_NAMES.map(envVarName);
    assert.equal(new Set(names).size, names.length);
    for (const name of names) {
      assert.ok(!NON_CONFIG_ENV_VARS.includes(name), name);
      assert.ok(!NON_CONFIG_ENV_PREFIXES.some((prefix) => name.startsWith(prefix)), name);
    }
  });

  it('every key has camelCase dotted parts and a one-line description', () => {
    for (const [key, declaration] of declarations) {
      assert.match(key, /^[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)*$/);
      assert.match(declaration.description, /^[A-Z][^\n]*\.$/, key);
    }
  });

  it('envVarName() turns dots and camelCase into SCREAMING_SNAKE_CASE', () => {
    assert.equal(envVarName('ufs.retry.maxAttempts'), 'DORA_UFS_RETRY_MAX_ATTEMPTS');
    assert.equal(envVarName('ufs.s3.multipartThreshold'), 'DORA_UFS_S3_MULTIPART_THRESHOLD');
    assert.equal(envVarName('dataDir'), 'DORA_DATA_DIR');
    assert.equal(envVarName('s3.port'), 'DORA_S3_PORT');
  });

  it('isConfigKey() knows declared keys only, not sections or inherited names', () => {
    assert.ok(isConfigKey('ufs.retry.maxAttempts'));
    assert.ok(!isConfigKey('ufs.retry'));
    assert.ok(!isConfigKey('toString'));
  });
});
