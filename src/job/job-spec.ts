import { DoraError } from '../common/errors.js';
import { isUnder, normalizeDoraPath } from '../mount/dora-path.js';
import type { JobSpec } from './job-types.js';

/**
 * A submitted job's spec, checked field by field and made canonical (paths normalized, unset
 * options left out), so two submissions of the same job compare equal. Throws INVALID_ARGUMENT.
 */
export function checkJobSpec(body: unknown): JobSpec {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) invalid('A job is a JSON object: {"kind": "load", "path": …}');
  const spec = body as Record<string, unknown>;
  const kind = spec['kind'];
  const flag = (name: string): { [name: string]: true } | object => {
    if (spec[name] !== undefined && typeof spec[name] !== 'boolean') invalid(`"${name}" must be true or false`);
    return spec[name] === true ? { [name]: true } : {};
  };
  const bandwidth = (): object => {
    const value = spec['bandwidth'];
    if (value === undefined) return {};
    if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) invalid('"bandwidth" must be a positive number of bytes per second');
    return { bandwidth: value };
  };
  const path = (name: string): string => {
    if (typeof spec[name] !== 'string') invalid(`A ${String(kind)} job needs "${name}", a path`);
    return normalizeDoraPath(spec[name] as string);
  };
  switch (kind) {
    case 'load': {
      const replicas = spec['replicas'];
      if (replicas !== undefined && (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 1)) invalid('"replicas" must be a whole number of at least 1');
      return { kind, path: path('path'), ...(replicas === undefined ? {} : { replicas }), ...bandwidth(), ...flag('verify'), ...flag('metadataOnly') };
    }
    case 'free':
      return { kind, path: path('path') };
    case 'copy':
    case 'move': {
      const from = path('from');
      const to = path('to');
      if (isUnder(to, from) || isUnder(from, to)) invalid(`Cannot ${kind} "${from}" to "${to}": one lies inside the other`);
      return { kind, from, to, ...flag('overwrite'), ...flag('checkContent'), ...bandwidth() };
    }
    default:
      return invalid(`Unknown job kind ${JSON.stringify(kind)}: load, free, copy or move`);
  }
}

function invalid(message: string): never {
  throw new DoraError('INVALID_ARGUMENT', message);
}
