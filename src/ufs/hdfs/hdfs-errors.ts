import { DoraError, isDoraError, type ErrorCode } from '../../common/errors.js';
import { fromNetworkError, fromSystemError } from '../../common/system-errors.js';

/**
 * An answer with an error status from a namenode, a datanode or a gateway in front of them.
 * WebHDFS reports Java exceptions as `{"RemoteException":{"exception","javaClassName","message"}}`
 * and maps every IOException to 403, so the exception's name, not the status, says what failed.
 */
export class WebHdfsError extends Error {
  readonly status: number;
  /** The exception's simple name (`FileNotFoundException`), when the body was a RemoteException. */
  readonly exception: string | undefined;
  readonly javaClassName: string | undefined;
  /** The server's own message. */
  readonly detail: string | undefined;

  constructor(status: number, body: string) {
    const remote = parseRemoteException(body);
    super(`HTTP ${status}${remote?.exception === undefined ? '' : ` ${remote.exception}`}${remote?.message === undefined ? '' : `: ${remote.message}`}`);
    this.name = 'WebHdfsError';
    this.status = status;
    this.exception = remote?.exception;
    this.javaClassName = remote?.javaClassName;
    this.detail = remote?.message;
  }

  /** Whether the server does not know an operation (an older Hadoop, HttpFS): 400 IllegalArgument or UnsupportedOperation. */
  get isUnsupportedOperation(): boolean {
    return this.status === 400 || this.status === 501 ? this.exception === undefined || this.exception === 'IllegalArgumentException' || this.exception === 'UnsupportedOperationException' : false;
  }
}

/** An answer dora cannot use (no Location, not JSON, a FileStatus without its fields): `message` is the cause. */
export class WebHdfsProtocolError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WebHdfsProtocolError';
    this.code = code;
  }
}

/** What each Hadoop exception means to dora, and the words a message uses for it. */
const CODE_BY_EXCEPTION: Readonly<Record<string, [ErrorCode, string]>> = {
  FileNotFoundException: ['NOT_FOUND', 'no such file or directory'],
  AccessControlException: ['PERMISSION_DENIED', 'permission denied'],
  SnapshotAccessControlException: ['PERMISSION_DENIED', 'permission denied'],
  AuthorizationException: ['PERMISSION_DENIED', 'permission denied'],
  SecurityException: ['PERMISSION_DENIED', 'the credentials were refused'],
  AuthenticationException: ['PERMISSION_DENIED', 'the credentials were refused'],
  InvalidToken: ['PERMISSION_DENIED', 'the delegation token was refused'],
  FileAlreadyExistsException: ['ALREADY_EXISTS', 'something is in the way'],
  ParentNotDirectoryException: ['NOT_A_DIRECTORY', 'a parent is a file'],
  PathIsNotDirectoryException: ['NOT_A_DIRECTORY', 'it is a file'],
  PathIsNotEmptyDirectoryException: ['DIRECTORY_NOT_EMPTY', 'the directory is not empty'],
  SafeModeException: ['UNAVAILABLE', 'the namenode is in safe mode'],
  StandbyException: ['UNAVAILABLE', 'the namenode is a standby'],
  RetriableException: ['UNAVAILABLE', 'the namenode asks to try again'],
  ObserverRetryOnActiveException: ['UNAVAILABLE', 'the namenode asks to try again'],
  NSQuotaExceededException: ['RESOURCE_EXHAUSTED', 'the name quota is exceeded'],
  DSQuotaExceededException: ['RESOURCE_EXHAUSTED', 'the space quota is exceeded'],
  QuotaExceededException: ['RESOURCE_EXHAUSTED', 'a quota is exceeded'],
  AlreadyBeingCreatedException: ['ABORTED', 'another client is writing it'],
  LeaseExpiredException: ['ABORTED', 'the write lost its lease'],
  RecoveryInProgressException: ['ABORTED', 'the file is being recovered'],
  InvalidPathException: ['INVALID_ARGUMENT', 'HDFS refuses the name'],
  IllegalArgumentException: ['INVALID_ARGUMENT', 'the server refused the request as invalid'],
  HadoopIllegalArgumentException: ['INVALID_ARGUMENT', 'the server refused the request as invalid'],
  UnsupportedOperationException: ['UNIMPLEMENTED', 'the server does not support it'],
};

/** What a status means when the body names no exception (a gateway, an authentication filter). */
const CODE_BY_STATUS: Readonly<Record<number, [ErrorCode, string]>> = {
  400: ['INVALID_ARGUMENT', 'the server refused the request as invalid'],
  401: ['PERMISSION_DENIED', 'the server requires authentication (give the user or delegationToken option)'],
  403: ['PERMISSION_DENIED', 'access denied'],
  404: ['NOT_FOUND', 'not found'],
  408: ['DEADLINE_EXCEEDED', 'the server timed out waiting for the request'],
  413: ['INVALID_ARGUMENT', 'the request is too large for the server'],
  414: ['INVALID_ARGUMENT', 'the request is too large for the server (are the name or the metadata too big?)'],
  431: ['INVALID_ARGUMENT', 'the request is too large for the server (are the name or the metadata too big?)'],
  429: ['UNAVAILABLE', 'the server asks to slow down'],
};

/**
 * Translates what a WebHDFS call threw into a DoraError: `${attempt}: ${cause}`. RemoteExceptions
 * map by exception name (`CODE_BY_EXCEPTION`); other IOExceptions (403) are FAILED_PRECONDITION
 * with the server's message; statuses without a RemoteException by `CODE_BY_STATUS` (5xx:
 * UNAVAILABLE); network errors by their codes (retryable where a connection failed); aborts to
 * CANCELLED or DEADLINE_EXCEEDED.
 */
export function fromHdfsError(error: unknown, attempt: string): DoraError {
  if (isDoraError(error)) return error;
  if (error instanceof WebHdfsError) return fromStatus(error, attempt);
  if (error instanceof WebHdfsProtocolError) return new DoraError(error.code, `${attempt}: ${error.message}`, { cause: error });
  return fromNetworkError(error, attempt) ?? fromSystemError(error, attempt);
}

function fromStatus(error: WebHdfsError, attempt: string): DoraError {
  const detail = error.detail === undefined ? '' : ` (${error.detail})`;
  const known = error.exception === undefined ? undefined : CODE_BY_EXCEPTION[error.exception];
  if (known !== undefined) return new DoraError(known[0], `${attempt}: ${known[1]}${detail}`, { cause: error });
  if (error.exception !== undefined && error.status < 500) {
    // An IOException without a class of its own: the namenode refused the operation as it stands.
    const code: ErrorCode = error.status === 403 ? 'FAILED_PRECONDITION' : (CODE_BY_STATUS[error.status]?.[0] ?? 'INVALID_ARGUMENT');
    return new DoraError(code, `${attempt}: ${error.exception}${detail}`, { cause: error });
  }
  if (error.exception !== undefined && error.status === 500) return new DoraError('INTERNAL', `${attempt}: the server failed with ${error.exception}${detail}`, { cause: error });
  const [code, cause] = CODE_BY_STATUS[error.status] ?? (error.status >= 500 ? ['UNAVAILABLE', `the server answered HTTP ${error.status}`] : ['INVALID_ARGUMENT', `the server answered HTTP ${error.status}`]);
  return new DoraError(code, `${attempt}: ${cause}${detail}`, { cause: error });
}

function parseRemoteException(body: string): { exception?: string; javaClassName?: string; message?: string } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const remote = (parsed as { RemoteException?: unknown } | null)?.RemoteException;
  if (typeof remote !== 'object' || remote === null) return undefined;
  const field = (name: string): string | undefined => {
    const value = (remote as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : undefined;
  };
  const javaClassName = field('javaClassName');
  // Older servers leave `exception` out; the class's simple name (after '.' and '$') says the same.
  const exception = field('exception') ?? javaClassName?.split(/[.$]/).pop();
  return {
    ...(exception === undefined ? {} : { exception }),
    ...(javaClassName === undefined ? {} : { javaClassName }),
    ...(field('message') === undefined ? {} : { message: field('message') as string }),
  };
}
