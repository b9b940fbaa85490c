import { DoraError } from '../../common/errors.js';
import type { StoreUri } from '../../common/store-uri.js';

/** Where a store's WebHDFS API is and which HDFS directory is its root. */
export interface HdfsLocation {
  /** `http(s)://host:port[/gateway-path]`, without a trailing '/'; requests go to `${base}/webhdfs/v1/…`. */
  readonly base: string;
  /** The root directory in HDFS: absolute, no trailing '/' ('' for HDFS's own root). */
  readonly root: string;
  /** The store's URI as dora shows it, ending in '/'. */
  readonly uri: string;
}

/** Namenode HTTP ports Hadoop 3 listens on by default (`dfs.namenode.http-address`, `…https-address`). */
const DEFAULT_PORT: Readonly<Record<string, number>> = { hdfs: 9870, webhdfs: 9870, swebhdfs: 9871 };
/** Ports of the namenode's RPC protocol, which dora does not speak, as fs.defaultFS usually names them. */
const RPC_PORTS = new Set([8020, 9000]);
/** A host name, an IPv4 address or a bracketed IPv6 address, and an optional port. */
const AUTHORITY = /^([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;

/**
 * `hdfs://namenode[:port]/dir`, `webhdfs://…` (HTTP) or `swebhdfs://…` (HTTPS) → the WebHDFS
 * address and root directory. The port is the namenode's HTTP port (9870, or 9871 for
 * swebhdfs); `endpoint` (an http(s) URL, e.g. an HttpFS server or a Knox gateway path) replaces
 * the address. Throws INVALID_ARGUMENT for a malformed URI or endpoint.
 */
export function hdfsLocation(uri: StoreUri, endpoint: string | undefined): HdfsLocation {
  const invalid = (why: string): DoraError => new DoraError('INVALID_ARGUMENT', `Invalid store URI "${uri.text}": ${why}`);
  if (uri.authority === '') throw invalid('name the namenode, e.g. webhdfs://namenode:9870/data');
  if (uri.authority.includes('@')) throw invalid('a user goes in the "user" option, not in the URI');
  const address = AUTHORITY.exec(uri.authority);
  if (address === null) throw invalid(`"${uri.authority}" is not a host[:port]`);
  const [, host = '', portText] = address;
  const segments = uri.path.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) throw invalid('"." and ".." segments are not allowed');
  const root = segments.map((s) => `/${s}`).join('');
  const uriText = `${uri.scheme}://${uri.authority}${root}/`;
  if (endpoint !== undefined) return { base: endpointBase(uri.text, endpoint), root, uri: uriText };
  const port = portText === undefined ? DEFAULT_PORT[uri.scheme] ?? 9870 : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(`port ${portText} is out of range`);
  if (uri.scheme === 'hdfs' && RPC_PORTS.has(port)) {
    throw invalid(`port ${port} is the namenode's RPC port; dora speaks WebHDFS, so give the namenode's HTTP port (default 9870) or the endpoint option`);
  }
  const protocol = uri.scheme === 'swebhdfs' ? 'https' : 'http';
  return { base: `${protocol}://${host}:${port}`, root, uri: uriText };
}

function endpointBase(uriText: string, endpoint: string): string {
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.username !== '') {
    throw new DoraError('INVALID_ARGUMENT', `Cannot open store "${uriText}": endpoint ${JSON.stringify(endpoint)} is not an http(s) URL without query or user`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '').replace(/\/webhdfs\/v1$/, '')}`;
}
