import { constants } from 'node:os';
import { isDoraError, type ErrorCode } from '../common/errors.js';

const E = constants.errno;

/** The one table from dora error codes to POSIX errnos (DESIGN: one mapping table per protocol edge). */
const ERRNO_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  NOT_FOUND: E.ENOENT,
  ALREADY_EXISTS: E.EEXIST,
  INVALID_ARGUMENT: E.EINVAL,
  PERMISSION_DENIED: E.EACCES,
  RESOURCE_EXHAUSTED: E.ENOSPC,
  UNAVAILABLE: E.EIO,
  DEADLINE_EXCEEDED: E.ETIMEDOUT,
  FAILED_PRECONDITION: E.EPERM,
  OUT_OF_RANGE: E.EINVAL,
  NOT_A_DIRECTORY: E.ENOTDIR,
  IS_A_DIRECTORY: E.EISDIR,
  DIRECTORY_NOT_EMPTY: E.ENOTEMPTY,
  CANCELLED: E.EINTR,
  ABORTED: E.EAGAIN,
  DATA_LOSS: E.EIO,
  UNIMPLEMENTED: E.ENOSYS,
  INTERNAL: E.EIO,
};

/** A failure that only POSIX has a word for (EROFS: a change on a read-only mount; ENAMETOOLONG: a name over NAME_MAX bytes). */
export class PosixError extends Error {
  readonly errno: number;

  constructor(errno: 'EROFS' | 'ENAMETOOLONG', message: string) {
    super(message);
    this.errno = E[errno];
  }
}

/** The negative errno FUSE answers for `error` (EIO for anything that is not a DoraError). */
export function fuseErrno(error: unknown): number {
  if (error instanceof PosixError) return -error.errno;
  return -(isDoraError(error) ? ERRNO_BY_CODE[error.code] : E.EIO);
}
