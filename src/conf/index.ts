/** The configuration module: declared keys, resolved once (file < env < flags) into a frozen object. */
export { CONFIG_KEYS, CONFIG_KEY_NAMES, NON_CONFIG_ENV_PREFIXES, NON_CONFIG_ENV_VARS, isConfigKey } from './config-keys.js';
export type { ConfigKey, DoraConfig } from './config-keys.js';
export type { ConfigKeyDeclaration, ConfigSource, ConfigValue, ConfigValueType } from './config-types.js';
export { describeConfig, type ConfigRow } from './describe-config.js';
export { envVarName } from './read-config-env.js';
export { resolveConfig, type ConfigSources, type ResolveConfigOptions } from './resolve-config.js';
export { DAY, GiB, HOUR, KiB, MINUTE, MiB, SECOND, TiB, formatDuration, formatSize, parseDuration, parseSize } from './units.js';
