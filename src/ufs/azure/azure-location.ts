import { DoraError } from '../../common/errors.js';
import type { StoreUri } from '../../common/store-uri.js';

/** Where a store root is in Azure Blob Storage: an account, a container and a name prefix ('' or ending in '/'). */
export interface AzureLocation {
  readonly account: string;
  /** The host named in the URI (`myaccount.dfs.core.windows.net`), or undefined for a bare account name. */
  readonly host: string | undefined;
  readonly container: string;
  readonly prefix: string;
  /** The root as users write it, ending in '/': `wasbs://container@account/prefix/`. */
  readonly uri: string;
}

const ACCOUNT = /^[a-z0-9]{3,24}$/;
const CONTAINER = /^(?:[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}|\$root)$/;
const HOST = /^[a-z0-9]{3,24}(?:\.[a-z0-9-]+)+$/;

/**
 * `wasbs://container@account/some/prefix` → { account, container, prefix: 'some/prefix/' }.
 * The account may also be written as its host (`container@account.blob.core.windows.net`, or
 * the `.dfs.` host of `abfss://`, as Hadoop writes them). Throws INVALID_ARGUMENT.
 */
export function azureLocation(uri: StoreUri): AzureLocation {
  const invalid = (why: string): DoraError => new DoraError('INVALID_ARGUMENT', `Invalid store URI "${uri.text}": ${why}`);
  const at = uri.authority.indexOf('@');
  if (at < 0) throw invalid(`expected ${uri.scheme}://container@account/prefix`);
  const container = uri.authority.slice(0, at);
  const accountOrHost = uri.authority.slice(at + 1).toLowerCase();
  if (!CONTAINER.test(container)) {
    throw invalid(`"${container}" is not a valid container name (3-63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit)`);
  }
  const host = accountOrHost.includes('.') ? accountOrHost : undefined;
  if (host !== undefined ? !HOST.test(host) : !ACCOUNT.test(accountOrHost)) {
    throw invalid(`"${accountOrHost}" is not a valid storage account name (3-24 lower-case letters and digits) or account host`);
  }
  const segments = uri.path.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) throw invalid('"." and ".." segments are not allowed');
  const prefix = segments.length === 0 ? '' : `${segments.join('/')}/`;
  return {
    account: accountOrHost.split('.')[0] ?? accountOrHost,
    host,
    container,
    prefix,
    uri: `${uri.scheme}://${container}@${accountOrHost}/${prefix}`,
  };
}

/**
 * The blob service endpoint of an account: its host when the URI named one (a `.dfs.` host
 * becomes its `.blob.` twin: dora speaks the blob API, which hierarchical-namespace accounts
 * serve too), else `https://<account>.blob.core.windows.net`. Always HTTPS, as storage accounts
 * require secure transfer by default (Hadoop's ABFS driver also uses HTTPS for `abfs://`).
 */
export function defaultEndpoint(location: AzureLocation): string {
  return location.host === undefined ? `https://${location.account}.blob.core.windows.net` : `https://${location.host.replace('.dfs.', '.blob.')}`;
}
