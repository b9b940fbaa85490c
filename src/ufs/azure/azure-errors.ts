import { DoraError, describeCause, isDoraError, type ErrorCode } from '../../common/errors.js';
import { abortedError, fromSystemError } from '../../common/system-errors.js';

/** The SDK's RestError as far as dora reads it. */
interface AzureErrorShape {
  name?: string;
  code?: string;
  statusCode?: number;
  message?: string;
  details?: { errorCode?: string };
}

/** Azure Storage error codes (x-ms-error-code) and what each means to dora. */
const CODE_BY_AZURE_ERROR: Readonly<Record<string, [ErrorCode, string, { retryable?: boolean }?]>> = {
  BlobNotFound: ['NOT_FOUND', 'no such blob'],
  ContainerNotFound: ['NOT_FOUND', 'the container does not exist'],
  ResourceNotFound: ['NOT_FOUND', 'no such resource'],
  AuthenticationFailed: ['PERMISSION_DENIED', 'authentication failed (check the account key or SAS token)'],
  AuthorizationFailure: ['PERMISSION_DENIED', 'not authorized'],
  AuthorizationPermissionMismatch: ['PERMISSION_DENIED', 'the credentials lack the permission'],
  AuthorizationResourceTypeMismatch: ['PERMISSION_DENIED', 'the SAS token does not cover this resource type'],
  AuthorizationServiceMismatch: ['PERMISSION_DENIED', 'the SAS token does not cover the blob service'],
  AuthorizationSourceIPMismatch: ['PERMISSION_DENIED', 'not authorized from this address'],
  AuthorizationProtocolMismatch: ['PERMISSION_DENIED', 'not authorized over this protocol'],
  InsufficientAccountPermissions: ['PERMISSION_DENIED', 'the account lacks the permission'],
  NoAuthenticationInformation: ['PERMISSION_DENIED', 'the store requires credentials'],
  PublicAccessNotPermitted: ['PERMISSION_DENIED', 'public access is not permitted on this account'],
  AccountIsDisabled: ['PERMISSION_DENIED', 'the account is disabled'],
  ContainerDisabled: ['PERMISSION_DENIED', 'the container is disabled'],
  ConditionNotMet: ['FAILED_PRECONDITION', 'the blob changed'],
  TargetConditionNotMet: ['FAILED_PRECONDITION', 'the blob changed'],
  LeaseIdMissing: ['FAILED_PRECONDITION', 'the blob is leased by another client'],
  LeaseIdMismatchWithBlobOperation: ['FAILED_PRECONDITION', 'the blob is leased by another client'],
  LeaseIdMismatchWithContainerOperation: ['FAILED_PRECONDITION', 'the container is leased by another client'],
  BlobArchived: ['FAILED_PRECONDITION', 'the blob is in the archive tier (rehydrate it first)'],
  BlobBeingRehydrated: ['FAILED_PRECONDITION', 'the blob is being rehydrated from the archive tier'],
  SnapshotsPresent: ['FAILED_PRECONDITION', 'the blob has snapshots'],
  InvalidRange: ['OUT_OF_RANGE', 'the range is not satisfiable'],
  // Staged blocks vanish when another writer commits the same blob first.
  InvalidBlockList: ['ABORTED', 'staged blocks were discarded (was the blob written concurrently?)'],
  InvalidBlobOrBlock: ['INVALID_ARGUMENT', 'invalid blob or block'],
  InvalidBlockId: ['INVALID_ARGUMENT', 'invalid block id'],
  BlockCountExceedsLimit: ['RESOURCE_EXHAUSTED', 'too many blocks (raise partSize)'],
  RequestBodyTooLarge: ['INVALID_ARGUMENT', 'the request body is larger than the store allows'],
  InvalidMetadata: ['INVALID_ARGUMENT', 'invalid metadata'],
  MetadataTooLarge: ['INVALID_ARGUMENT', 'the metadata is larger than the store allows (8 KiB)'],
  InvalidTag: ['INVALID_ARGUMENT', 'invalid tags (at most 10, of letters, digits, spaces and + - . / : = _)'],
  InvalidHeaderValue: ['INVALID_ARGUMENT', 'invalid header value'],
  InvalidInput: ['INVALID_ARGUMENT', 'invalid input'],
  InvalidResourceName: ['INVALID_ARGUMENT', 'invalid name'],
  InvalidUri: ['INVALID_ARGUMENT', 'invalid URI'],
  OutOfRangeInput: ['INVALID_ARGUMENT', 'a value is out of range'],
  Md5Mismatch: ['DATA_LOSS', 'the content did not arrive intact (MD5 mismatch)'],
  BlobAlreadyExists: ['ALREADY_EXISTS', 'the blob already exists'],
  ContainerAlreadyExists: ['ALREADY_EXISTS', 'the container already exists'],
  ContainerBeingDeleted: ['UNAVAILABLE', 'the container is being deleted'],
  ServerBusy: ['UNAVAILABLE', 'the store is busy (throttled)'],
  InternalError: ['UNAVAILABLE', 'the store had an internal error'],
  OperationTimedOut: ['DEADLINE_EXCEEDED', 'the store timed out'],
  FeatureVersionMismatch: ['UNIMPLEMENTED', 'the store does not support the operation in this API version'],
  UnsupportedHeader: ['UNIMPLEMENTED', 'the store does not support a header'],
  UnsupportedQueryParameter: ['UNIMPLEMENTED', 'the store does not support a query parameter'],
};

/** The code for an HTTP status when the error code says nothing known. */
function codeForStatus(status: number | undefined): ErrorCode | undefined {
  if (status === undefined) return undefined;
  if (status === 404) return 'NOT_FOUND';
  if (status === 401 || status === 403) return 'PERMISSION_DENIED';
  if (status === 409 || status === 412) return 'FAILED_PRECONDITION';
  if (status === 416) return 'OUT_OF_RANGE';
  if (status === 408) return 'DEADLINE_EXCEEDED';
  if (status === 429 || status >= 500) return 'UNAVAILABLE';
  if (status >= 400) return 'INVALID_ARGUMENT';
  return undefined;
}

/**
 * Translates an error of the Azure SDK (a RestError with the store's `x-ms-error-code`, a
 * socket error, an abort, a download cut short) into a DoraError `${attempt}: ${cause}`. A
 * DoraError passes through unchanged.
 */
export function fromAzureError(error: unknown, attempt: string): DoraError {
  if (isDoraError(error)) return error;
  const e = (error ?? {}) as AzureErrorShape;
  if (e.name === 'AbortError') return abortedError(attempt, error);
  const status = e.statusCode;
  const azureCode = azureErrorCode(error);
  const known = azureCode === undefined ? undefined : CODE_BY_AZURE_ERROR[azureCode];
  if (known !== undefined) return new DoraError(known[0], `${attempt}: ${known[1]}`, { cause: error });
  const byStatus = codeForStatus(status);
  if (byStatus !== undefined) {
    return new DoraError(byStatus, `${attempt}: the store answered HTTP ${status} ${azureCode ?? ''}`.trimEnd(), { cause: error });
  }
  // A header value Node refuses to send (metadata values must be ASCII).
  if (e.code === 'ERR_INVALID_CHAR') return new DoraError('INVALID_ARGUMENT', `${attempt}: ${describeCause(error)} (metadata values must be ASCII)`, { cause: error });
  // A download body that ended early or broke off: a new read from the byte reached can get past it.
  if (e.code === 'ERR_STREAM_PREMATURE_CLOSE' || /^Data corruption failure/.test(e.message ?? '')) {
    return new DoraError('UNAVAILABLE', `${attempt}: the download broke off (${describeCause(error)})`, { cause: error });
  }
  // No answer: the SDK's RestError carries the socket's errno (ECONNREFUSED, ECONNRESET) as its code.
  if (typeof e.code === 'string' && /^E[A-Z_]+$/.test(e.code)) return fromSystemError(error, attempt);
  if (e.code === 'REQUEST_SEND_ERROR') return new DoraError('UNAVAILABLE', `${attempt}: ${describeCause(error)}`, { cause: error });
  return new DoraError('INTERNAL', `${attempt}: ${describeCause(error)}`, { cause: error });
}

/** The HTTP status of an SDK error, if the store answered at all. */
export function httpStatusOf(error: unknown): number | undefined {
  return (error as AzureErrorShape | null)?.statusCode;
}

/** The store's error code (x-ms-error-code), if it sent one. */
export function azureErrorCode(error: unknown): string | undefined {
  const e = (error ?? {}) as AzureErrorShape;
  return e.details?.errorCode ?? (typeof e.code === 'string' && /^[A-Z][A-Za-z]+$/.test(e.code) ? e.code : undefined);
}
