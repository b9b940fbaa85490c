import { DoraError } from '../../common/errors.js';
import type { UfsFactory } from '../ufs-registry.js';
import { booleanOption, checkKnownOptions } from '../ufs-options.js';
import { HdfsClient } from './hdfs-client.js';
import { hdfsLocation } from './hdfs-location.js';
import { HdfsUfs } from './hdfs-ufs.js';

const OPTIONS = ['user', 'delegationToken', 'endpoint', 'xattrs'] as const;

/**
 * `hdfs://namenode[:port]/dir`, `webhdfs://…` or `swebhdfs://…` → an HdfsUfs over WebHDFS.
 * Options: `user` (simple authentication's user.name) and/or `delegationToken` (at least one:
 * dora does not guess a user), `endpoint` (the WebHDFS address, e.g. HttpFS or a gateway,
 * instead of the URI's), `xattrs` (default true: keep MD5, content type and metadata in an
 * extended attribute). Kerberos (SPNEGO) is not supported: obtain a delegation token instead.
 */
export const createHdfsUfs: UfsFactory = (uri, options, tuning) => {
  checkKnownOptions(uri.text, options, OPTIONS);
  const location = hdfsLocation(uri, options['endpoint']);
  const user = options['user'];
  const delegationToken = options['delegationToken'];
  if ((user === undefined || user === '') && (delegationToken === undefined || delegationToken === '')) {
    throw new DoraError('INVALID_ARGUMENT', `Cannot open store "${uri.text}": give the user option (simple authentication's user.name) or delegationToken (a cluster with Kerberos)`);
  }
  const credentials = { ...(user === undefined || user === '' ? {} : { user }), ...(delegationToken === undefined || delegationToken === '' ? {} : { delegationToken }) };
  const client = new HdfsClient(location.base, credentials, { maxSockets: tuning.maxSockets });
  return new HdfsUfs(client, location, { xattrs: booleanOption(uri.text, options, 'xattrs', true) });
};
