import { createRequire } from 'node:module';
import type FuseModule from '@cocalc/fuse-native';
import { DoraError, describeCause } from '../../common/errors.js';
import { detachMounts } from '../mount-points.js';

type Fuse = typeof FuseModule.default;

/** The kernel's FUSE, through @cocalc/fuse-native (built from source against Debian's libfuse-dev): the one file that loads it. */
export type FuseOperations = FuseModule.default.OPERATIONS;
export type FuseOptions = FuseModule.default.OPTIONS;
export type FuseStat = FuseModule.default.Stats;

export interface FuseMount {
  mount(cb: (err: null | Error) => void): void;
  unmount(cb: (err: null | Error) => void): void;
}

const require = createRequire(import.meta.url);

/**
 * The binding, or a clear error where it was not built (it is an optional dependency: it needs
 * libfuse-dev). Its own unmount runs `fusermount -uz "<path>"` through a shell (a path with `$(…)`
 * would run it) and fails when nothing is mounted, which then skips releasing the native session
 * (a daemon whose mount was removed by someone else never exits): replaced by `detachMounts`.
 */
function load(): Fuse {
  try {
    const FuseClass = require('@cocalc/fuse-native') as Fuse;
    FuseClass.unmount = (mountPoint: string, cb: (error: Error | null) => void) => {
      detachMounts(mountPoint).then(() => cb(null), cb);
    };
    return FuseClass;
  } catch (error) {
    throw new DoraError('UNIMPLEMENTED', `Cannot use FUSE: the @cocalc/fuse-native binding is not built here (${describeCause(error)}); run \`apt-get install -y fuse3 libfuse-dev && npm rebuild @cocalc/fuse-native\``, { cause: error });
  }
}

/** Creates (does not mount) a FUSE file system at `mountPoint`. Loads the native binding on first use. */
export function createFuse(mountPoint: string, operations: FuseOperations, options: FuseOptions): FuseMount {
  const FuseClass = load();
  return new FuseClass(mountPoint, operations, options);
}

