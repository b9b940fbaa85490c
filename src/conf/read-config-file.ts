import { readFile } from 'node:fs/promises';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import { DoraError } from '../common/errors.js';
import { fromSystemError, throwIfAborted } from '../common/system-errors.js';
import { closestMatch } from './closest-match.js';
import { CONFIG_KEY_NAMES, isConfigKey, type ConfigKey } from './config-keys.js';
import type { ConfigEntry } from './parse-config-entry.js';

export interface ReadConfigFileOptions {
  signal?: AbortSignal | undefined;
}

/** Prefixes of declared keys (`ufs`, `ufs.retry`, …): names that hold a mapping of keys in the file. */
const SECTIONS: ReadonlySet<string> = new Set(
  CONFIG_KEY_NAMES.flatMap((key) => key.split('.').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('.'))),
);

/**
 * The settings in the YAML file at `path`, unparsed. Keys nest (`ufs: { retry: { maxAttempts: 5 } }`)
 * or are dotted at any level (`ufs.retry.maxAttempts: 5`); an empty section (`ufs:` with every
 * entry commented out) is allowed, an empty file means no settings.
 * Throws NOT_FOUND for a missing file, INVALID_ARGUMENT for malformed YAML, an unknown key (with
 * the closest known key, if one is near) or a key set twice, and CANCELLED when `signal` aborts.
 */
export async function readConfigFile(path: string, options: ReadConfigFileOptions = {}): Promise<ConfigEntry[]> {
  const attempt = `Cannot load configuration ${JSON.stringify(path)}`;
  const { signal } = options;
  let text: string;
  try {
    text = await readFile(path, { encoding: 'utf8', ...(signal === undefined ? {} : { signal }) });
  } catch (error) {
    const translated = fromSystemError(error, attempt);
    if (translated.code !== 'NOT_FOUND') throw translated;
    throw new DoraError('NOT_FOUND', `${attempt}: no such file`, { cause: error });
  }
  throwIfAborted(signal, attempt);

  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const [problem] = document.errors;
  if (problem !== undefined) {
    const where = problem.pos[0] >= 0 ? ` on line ${lines.linePos(problem.pos[0]).line}` : '';
    const cause = problem.code === 'MULTIPLE_DOCS' ? 'it holds more than one document' : lowerFirst(problem.message);
    throw invalid(`${attempt}: malformed YAML${where}: ${cause}`);
  }

  return new ConfigFileWalker(attempt, { path, document, lines }).entries();
}

/** A dotted name in the file and the line it is on. */
interface Located {
  readonly name: string;
  readonly line: number;
}

interface ParsedFile {
  readonly path: string;
  readonly document: Document;
  readonly lines: LineCounter;
}

/** Collects the settings of one parsed file, checking names as it goes. */
class ConfigFileWalker {
  readonly #attempt: string;
  readonly #file: ParsedFile;
  readonly #found = new Map<ConfigKey, ConfigEntry & Located>();

  constructor(attempt: string, file: ParsedFile) {
    this.#attempt = attempt;
    this.#file = file;
  }

  entries(): ConfigEntry[] {
    this.#visit(this.#file.document.contents as Node | null, { name: '', line: 1 });
    return [...this.#found.values()].map(({ key, raw, origin }) => ({ key, raw, origin }));
  }

  #visit(node: Node | null, section: Located): void {
    const resolved = this.#resolve(node);
    if (resolved === null || (isScalar(resolved) && resolved.value === null)) return;
    if (!isMap(resolved)) {
      const what = section.name === '' ? 'the file' : `section "${section.name}" on line ${section.line}`;
      throw this.#invalid(`${what} must be a mapping of keys, not ${isSeq(resolved) ? 'a list' : 'a single value'}`);
    }
    for (const pair of resolved.items) {
      const at = this.#locate(pair.key as Node | null, section.name);
      const value = pair.value as Node | null;
      if (isConfigKey(at.name)) {
        const earlier = this.#found.get(at.name);
        if (earlier !== undefined) throw this.#invalid(`key "${at.name}" is set twice, on lines ${earlier.line} and ${at.line}`);
        const raw = this.#resolve(value)?.toJS(this.#file.document) ?? null;
        this.#found.set(at.name, { key: at.name, raw, origin: `${JSON.stringify(this.#file.path)} line ${at.line}`, ...at });
      } else if (SECTIONS.has(at.name)) {
        this.#visit(value, at);
      } else {
        // Name the full key (`ufs.retri.maxAttempts`, not `ufs.retri`): it is what a suggestion matches.
        const unknown = this.#firstLeaf(value, at);
        const suggestion = closestMatch(unknown.name, CONFIG_KEY_NAMES);
        const hint = suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
        throw this.#invalid(`unknown key "${unknown.name}" on line ${unknown.line}${hint}`);
      }
    }
  }

  /** The dotted name `keyNode` gives below `prefix`; throws for keys that are not plain text. */
  #locate(keyNode: Node | null, prefix: string): Located {
    const offset = keyNode?.range?.[0];
    const line = offset === undefined ? 0 : this.#file.lines.linePos(offset).line;
    if (!isScalar(keyNode) || typeof keyNode.value === 'object') throw this.#invalid(`key on line ${line} is not plain text`);
    return { name: prefix === '' ? String(keyNode.value) : `${prefix}.${String(keyNode.value)}`, line };
  }

  /** The first name below `at` when `node` is a mapping, else `at` itself. */
  #firstLeaf(node: Node | null, at: Located): Located {
    const resolved = this.#resolve(node);
    const [first] = isMap(resolved) ? resolved.items : [];
    const key = first?.key as Node | null | undefined;
    if (first === undefined || !isScalar(key) || typeof key.value === 'object') return at;
    return this.#firstLeaf(first.value as Node | null, this.#locate(key, at.name));
  }

  #resolve(node: Node | null): Node | null {
    return isAlias(node) ? (node.resolve(this.#file.document) ?? null) : node;
  }

  #invalid(cause: string): DoraError {
    return invalid(`${this.#attempt}: ${cause}`);
  }
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function invalid(message: string): DoraError {
  return new DoraError('INVALID_ARGUMENT', message);
}
