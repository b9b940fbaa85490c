import type { IncomingMessage, ServerResponse } from 'node:http';

/** A Java exception as WebHDFS reports it, with the HTTP status its ExceptionHandler gives it. */
export class RemoteError extends Error {
  readonly status: number;
  readonly exception: string;
  readonly javaClassName: string;

  constructor(status: number, javaClassName: string, message: string) {
    super(message);
    this.status = status;
    this.javaClassName = javaClassName;
    this.exception = javaClassName.split(/[.$]/).pop() ?? javaClassName;
  }
}

/** The exceptions the test server throws, with Hadoop's class names and WebHDFS's statuses (IOExceptions are 403). */
export const remote = {
  notFound: (message: string) => new RemoteError(404, 'java.io.FileNotFoundException', message),
  accessDenied: (message: string) => new RemoteError(403, 'org.apache.hadoop.security.AccessControlException', message),
  alreadyExists: (message: string) => new RemoteError(403, 'org.apache.hadoop.fs.FileAlreadyExistsException', message),
  parentNotDirectory: (message: string) => new RemoteError(403, 'org.apache.hadoop.fs.ParentNotDirectoryException', message),
  notEmpty: (message: string) => new RemoteError(403, 'org.apache.hadoop.fs.PathIsNotEmptyDirectoryException', message),
  io: (message: string) => new RemoteError(403, 'java.io.IOException', message),
  eof: (message: string) => new RemoteError(403, 'java.io.EOFException', message),
  invalidPath: (message: string) => new RemoteError(400, 'org.apache.hadoop.fs.InvalidPathException', message),
  illegalArgument: (message: string) => new RemoteError(400, 'java.lang.IllegalArgumentException', message),
  invalidToken: (message: string) => new RemoteError(403, 'org.apache.hadoop.security.token.SecretManager$InvalidToken', message),
  standby: (message: string) => new RemoteError(403, 'org.apache.hadoop.ipc.StandbyException', message),
  safeMode: (message: string) => new RemoteError(403, 'org.apache.hadoop.hdfs.server.namenode.SafeModeException', message),
};

/** `{"RemoteException":{"exception","javaClassName","message"}}`, as WebHDFS sends it. */
export function sendRemoteError(res: ServerResponse, error: RemoteError): void {
  sendJson(res, error.status, { RemoteException: { exception: error.exception, javaClassName: error.javaClassName, message: error.message } });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': String(text.length) });
  res.end(text);
}

/** What Hadoop's AuthenticationFilter answers a request without user.name when anonymous access is off: not JSON. */
export function sendAuthenticationRequired(res: ServerResponse): void {
  const text = Buffer.from('<html><body><h2>HTTP ERROR 401</h2><p>Authentication required</p></body></html>');
  res.writeHead(401, { 'content-type': 'text/html;charset=iso-8859-1', 'www-authenticate': 'PseudoAuth', 'content-length': String(text.length) });
  res.end(text);
}

/** What a proxy or load balancer in front of a namenode answers while it is away. */
export function sendUnavailable(res: ServerResponse): void {
  const text = Buffer.from('Service Unavailable');
  res.writeHead(503, { 'content-type': 'text/plain', 'content-length': String(text.length) });
  res.end(text);
}

/** A parsed WebHDFS request: the HDFS path (decoded) and the query. */
export interface WebHdfsRequest {
  readonly method: string;
  readonly path: string;
  readonly op: string;
  readonly query: URLSearchParams;
  /** The query as sent (a redirect passes it on). */
  readonly rawQuery: string;
}

/** Reads `/webhdfs/v1/<path>?op=…`; undefined for any other URL. */
export function parseRequest(req: IncomingMessage): WebHdfsRequest | undefined {
  const url = req.url ?? '';
  const question = url.indexOf('?');
  const pathname = question < 0 ? url : url.slice(0, question);
  const rawQuery = question < 0 ? '' : url.slice(question + 1);
  if (pathname !== '/webhdfs/v1' && !pathname.startsWith('/webhdfs/v1/')) return undefined;
  const query = new URLSearchParams(rawQuery);
  let path: string;
  try {
    path = decodeURIComponent(pathname.slice('/webhdfs/v1'.length)) || '/';
  } catch {
    throw remote.illegalArgument(`Malformed percent-encoding in ${pathname}`);
  }
  return { method: req.method ?? 'GET', path, op: (query.get('op') ?? '').toUpperCase(), query, rawQuery };
}
