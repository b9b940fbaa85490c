import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MountInfo } from '../mount/mount-info.js';
import { redacted } from './coordinator-routes.js';

describe('the mount table as the coordinator shows it', () => {
  it('never shows a secret store option: secrets, tokens, passwords, credentials, keys, connection strings and authorization are ***', () => {
    const options = { region: 'eu-west-1', endpoint: 'http://x', accessKeyId: 'AKIA1', secretAccessKey: 's1', sessionToken: 't1', password: 'p1', accountKey: 'k1', credentialsJson: '{}', partSize: '8MiB', connectionString: 'AccountKey=k2', basicAuth: 'u:p', 'header.Authorization': 'Bearer x', key: 'swift' };
    const mount = { path: '/sales', uri: 's3://bucket/sales/', options } as unknown as MountInfo;
    assert.deepEqual(redacted(mount).options, {
      region: 'eu-west-1',
      endpoint: 'http://x',
      accessKeyId: 'AKIA1',
      secretAccessKey: '***',
      sessionToken: '***',
      password: '***',
      accountKey: '***',
      credentialsJson: '***',
      partSize: '8MiB',
      connectionString: '***',
      basicAuth: '***',
      'header.Authorization': '***',
      key: '***',
    });
  });
});
