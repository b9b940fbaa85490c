import type { ErrorCode } from '../common/errors.js';

/** The one table from dora error codes to HTTP statuses, for every dora HTTP API. */
export const HTTP_STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  NOT_A_DIRECTORY: 409,
  IS_A_DIRECTORY: 409,
  DIRECTORY_NOT_EMPTY: 409,
  FAILED_PRECONDITION: 409,
  ABORTED: 409,
  DATA_LOSS: 500,
  UNIMPLEMENTED: 501,
  OUT_OF_RANGE: 416,
  CANCELLED: 499,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
  RESOURCE_EXHAUSTED: 507,
};
