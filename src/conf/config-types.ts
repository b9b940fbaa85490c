/**
 * The shape of a configuration key declaration, and the types derived from a table of them: the
 * value type of one key and the nested, read-only tree that `resolveConfig()` returns.
 */

export type ConfigValueType = 'string' | 'int' | 'bool' | 'size' | 'duration' | 'enum' | 'list';

/** Where a resolved value came from; later sources win (default < file < env < flag). */
export type ConfigSource = 'default' | 'file' | 'env' | 'flag';

/** Any resolved value: sizes are bytes and durations milliseconds. */
export type ConfigValue = string | number | boolean | readonly string[];

interface Described {
  /** One line, shown by `dora conf get`. */
  readonly description: string;
}

/** Inclusive bounds, in the key's own unit (bytes for sizes, milliseconds for durations). */
interface Bounded {
  readonly min?: number;
  readonly max?: number;
}

export type ConfigKeyDeclaration =
  | (Described & { readonly type: 'string'; readonly default: string })
  | (Described & Bounded & { readonly type: 'int'; readonly default: number; readonly unit?: string })
  | (Described & { readonly type: 'bool'; readonly default: boolean })
  | (Described & Bounded & { readonly type: 'size'; readonly default: number })
  | (Described & Bounded & { readonly type: 'duration'; readonly default: number })
  | (Described & { readonly type: 'enum'; readonly values: readonly string[]; readonly default: string })
  | (Described & { readonly type: 'list'; readonly default: readonly string[] });

/** A table of declarations keyed by dotted name, e.g. `ufs.retry.maxAttempts`. */
export type ConfigKeyTable = Readonly<Record<string, ConfigKeyDeclaration>>;

/** The resolved value type of one declaration. */
export type ConfigValueOf<D> = D extends { readonly type: 'int' | 'size' | 'duration' }
  ? number
  : D extends { readonly type: 'bool' }
    ? boolean
    : D extends { readonly type: 'enum'; readonly values: readonly (infer V)[] }
      ? V
      : D extends { readonly type: 'list' }
        ? readonly string[]
        : string;

type Head<K extends string> = K extends `${infer H}.${string}` ? H : K;
type Tail<K extends string, H extends string> = K extends `${H}.${infer R}` ? R : never;

/**
 * The nested read-only object for a table: `{ 'ufs.retry.maxAttempts': int }` becomes
 * `{ readonly ufs: { readonly retry: { readonly maxAttempts: number } } }`. A dotted name must
 * not also be the prefix of another (a value cannot also be a section).
 */
export type ConfigTree<T extends ConfigKeyTable, Prefix extends string = '', Rest extends string = keyof T & string> = {
  readonly [H in Head<Rest>]: `${Prefix}${H}` extends keyof T
    ? ConfigValueOf<T[`${Prefix}${H}` & keyof T]>
    : ConfigTree<T, `${Prefix}${H}.`, Tail<Rest, H>>;
};
