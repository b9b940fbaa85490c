import { DoraError, describeCause } from '../../common/errors.js';
import { parseSize } from '../../conf/units.js';
import { ObjectUfs } from '../object/object-ufs.js';
import type { UfsFactory, UfsOptions } from '../ufs-registry.js';
import { checkKnownOptions } from '../ufs-options.js';
import { SwiftApi, type SwiftApiSettings } from './swift-api.js';
import { tempAuthLogin } from './swift-auth.js';
import { SwiftClient } from './swift-client.js';
import { keystoneLogin, type KeystoneInterface } from './swift-keystone.js';
import { swiftLocation } from './swift-location.js';

const KEYSTONE_ONLY = ['userDomain', 'project', 'projectDomain', 'region', 'interface'] as const;
const OPTIONS = [
  'authUrl', 'user', 'key', 'password', ...KEYSTONE_ONLY, 'token', 'storageUrl',
  'segmentContainer', 'multipartThreshold', 'partSize', 'uploadConcurrency', 'maxManifestSegments',
] as const;
const INTERFACES: readonly KeystoneInterface[] = ['public', 'internal', 'admin'];
const MiB = 1024 * 1024;
/** Swift's default `max_file_size`: the largest object (and segment) one PUT may write. */
const MAX_PUT_BYTES = 5 * 1024 * MiB;

/**
 * `swift://container/prefix` → an ObjectUfs over OpenStack Swift's native API. One way to
 * authenticate: TempAuth/v1 (authUrl, user `account:user`, key), Keystone v3 (authUrl ending in
 * /v3, user, password, project, userDomain and projectDomain default "Default", region,
 * interface public|internal|admin), or a token made elsewhere with its storageUrl. storageUrl
 * also overrides the URL an identity service names. Large writes become static large objects
 * with segments in segmentContainer (default `<container>_segments`); multipartThreshold,
 * partSize and uploadConcurrency override the process's tuning, maxManifestSegments the
 * cluster's manifest limit (default 1000, Swift's default).
 */
export const createSwiftUfs: UfsFactory = (uri, options, tuning) => {
  checkKnownOptions(uri.text, options, OPTIONS);
  const context = `Cannot open store "${uri.text}"`;
  const location = swiftLocation(uri, options['segmentContainer']);
  const storageUrl = options['storageUrl'];
  if (storageUrl !== undefined) httpUrl(context, 'storageUrl', storageUrl);
  const partSize = sizeOption(context, options, 'partSize') ?? tuning.partSize;
  if (partSize < MiB || partSize > MAX_PUT_BYTES) {
    throw new DoraError('INVALID_ARGUMENT', `${context}: partSize must be from 1MiB to 5GiB (a segment is one PUT, and older Swift refuses segments under 1MiB)`);
  }
  const api = new SwiftApi({ maxSockets: tuning.maxSockets, auth: authFrom(context, options), storageUrl });
  const client = new SwiftClient(api, location, {
    multipartThreshold: Math.min(sizeOption(context, options, 'multipartThreshold') ?? tuning.multipartThreshold, MAX_PUT_BYTES),
    partSize,
    uploadConcurrency: countOption(context, options, 'uploadConcurrency', 1) ?? tuning.uploadConcurrency,
    maxManifestSegments: countOption(context, options, 'maxManifestSegments', 2) ?? 1000,
  });
  return new ObjectUfs(client, { uri: `swift://${uri.authority}/${location.prefix}`, prefix: location.prefix });
};

/** The one way to authenticate the options name. Throws INVALID_ARGUMENT naming what is missing or extra. */
function authFrom(context: string, options: UfsOptions): SwiftApiSettings['auth'] {
  const { authUrl, user, key, password, token } = options;
  const given = (['key', 'password', 'token'] as const).filter((k) => options[k] !== undefined);
  if (given.length === 0) {
    throw new DoraError('INVALID_ARGUMENT', `${context}: no credentials: give authUrl, user and key (TempAuth), authUrl, user, password and project (Keystone v3), or token and storageUrl`);
  }
  if (given.length > 1) throw new DoraError('INVALID_ARGUMENT', `${context}: give one of key (TempAuth), password (Keystone v3) and token, not ${given.join(' and ')}`);
  const keystoneOptions = KEYSTONE_ONLY.filter((k) => options[k] !== undefined);
  if (token !== undefined) {
    const extra = ['authUrl', 'user', ...keystoneOptions].filter((k) => options[k] !== undefined);
    if (extra.length > 0) throw new DoraError('INVALID_ARGUMENT', `${context}: a token is used as it is: ${extra.join(', ')} cannot go with it`);
    const storageUrl = options['storageUrl'];
    if (storageUrl === undefined) throw new DoraError('INVALID_ARGUMENT', `${context}: a token needs its storageUrl (e.g. https://swift.example.com/v1/AUTH_account)`);
    if (token === '' || /[\s\0]/.test(token)) throw new DoraError('INVALID_ARGUMENT', `${context}: token is empty or has spaces`);
    return { token, storageUrl };
  }
  if (authUrl === undefined || user === undefined) {
    throw new DoraError('INVALID_ARGUMENT', `${context}: ${key !== undefined ? 'TempAuth' : 'Keystone'} needs ${['authUrl', 'user'].filter((k) => options[k] === undefined).join(' and ')}`);
  }
  const path = httpUrl(context, 'authUrl', authUrl).pathname.replace(/\/+$/, '');
  if (key !== undefined) {
    if (keystoneOptions.length > 0) {
      const names = keystoneOptions.map((k) => `"${k}"`).join(', ');
      throw new DoraError('INVALID_ARGUMENT', `${context}: ${keystoneOptions.length === 1 ? `option ${names} is` : `options ${names} are`} for Keystone (password), not TempAuth (key)`);
    }
    if (/\/v(3|2\.0)$/.test(path)) throw new DoraError('INVALID_ARGUMENT', `${context}: authUrl ${JSON.stringify(authUrl)} is Keystone's: give password (and project) instead of key`);
    return (dispatcher) => tempAuthLogin(dispatcher, { authUrl, user, key });
  }
  if (!path.endsWith('/v3')) {
    throw new DoraError('INVALID_ARGUMENT', `${context}: Keystone's authUrl must end in /v3 (the identity API v3), e.g. https://keystone.example.com:5000/v3, not ${JSON.stringify(authUrl)}`);
  }
  const project = options['project'];
  if (project === undefined) throw new DoraError('INVALID_ARGUMENT', `${context}: Keystone needs project (the project whose object store to use)`);
  const iface = options['interface'] ?? 'public';
  if (!(INTERFACES as readonly string[]).includes(iface)) {
    throw new DoraError('INVALID_ARGUMENT', `${context}: option "interface" must be one of ${INTERFACES.join(', ')}, not ${JSON.stringify(iface)}`);
  }
  const userDomain = options['userDomain'] ?? 'Default';
  const settings = {
    authUrl,
    user,
    password: password ?? '',
    userDomain,
    project,
    projectDomain: options['projectDomain'] ?? userDomain,
    region: options['region'],
    interface: iface as KeystoneInterface,
  };
  return (dispatcher) => keystoneLogin(dispatcher, settings);
}

function httpUrl(context: string, name: string, value: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new DoraError('INVALID_ARGUMENT', `${context}: ${name} ${JSON.stringify(value)} is not an http(s) URL`);
  }
  return url;
}

function sizeOption(context: string, options: UfsOptions, name: string): number | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  try {
    return parseSize(value);
  } catch (error) {
    throw new DoraError('INVALID_ARGUMENT', `${context}: option "${name}": ${describeCause(error)}`, { cause: error });
  }
}

function countOption(context: string, options: UfsOptions, name: string, min: number): number | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new DoraError('INVALID_ARGUMENT', `${context}: option "${name}" must be a whole number of at least ${min}, not ${JSON.stringify(value)}`);
  }
  return Number(value);
}
