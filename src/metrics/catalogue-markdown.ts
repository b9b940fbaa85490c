import { DoraError } from '../common/errors.js';
import { METRICS, PROCESS_METRICS_EXAMPLES, PROCESS_METRICS_PREFIX, type MetricSpec, type Role } from './catalogue.js';

/** The markers around the generated part of docs/metrics.md. */
export const CATALOGUE_START = '<!-- catalogue:start -->';
export const CATALOGUE_END = '<!-- catalogue:end -->';

/** Headings of the catalogue, each with the name prefixes of its metrics; the first that matches wins. */
const GROUPS: readonly { readonly title: string; readonly prefixes: readonly string[] }[] = [
  { title: 'Every process', prefixes: ['dora_info'] },
  { title: 'Cache (workers)', prefixes: ['dora_cache_'] },
  { title: 'Under stores', prefixes: ['dora_ufs_'] },
  { title: 'Interfaces', prefixes: ['dora_io_', 'dora_s3_', 'dora_http_'] },
  { title: 'Routing', prefixes: ['dora_routing_'] },
  { title: 'Coordinator and jobs', prefixes: ['dora_mounts', 'dora_workers', 'dora_membership_', 'dora_coordinator_', 'dora_jobs', 'dora_job_'] },
];

const ROLE_NAMES: Record<Role, string> = { worker: 'worker', coordinator: 'coordinator', fuse: 'FUSE daemon', sdk: 'SDK client' };

/**
 * The catalogue as Markdown: one table (Name | Type | Labels | Exported by | Description) per
 * group of metrics, then a paragraph on the process metrics. Ends with a newline; a metric no
 * group claims is listed under "Other".
 */
export function renderCatalogue(): string {
  const specs: readonly MetricSpec[] = Object.values(METRICS);
  const groupOf = (name: string): string => GROUPS.find((g) => g.prefixes.some((p) => name.startsWith(p)))?.title ?? 'Other';
  const sections = [...GROUPS.map((g) => g.title), 'Other'].flatMap((title) => {
    const members = specs.filter((s) => groupOf(s.name) === title);
    if (members.length === 0) return [];
    return [[`### ${title}`, '', '| Name | Type | Labels | Exported by | Description |', '| --- | --- | --- | --- | --- |', ...members.map(row)].join('\n')];
  });
  const examples = PROCESS_METRICS_EXAMPLES.map((name) => `\`${name}\``).join(', ');
  const processMetrics = [
    '### Process metrics',
    '',
    `Every process also exports prom-client's default Node.js and process metrics, prefixed \`${PROCESS_METRICS_PREFIX}\`: ` +
      `memory, CPU, file descriptors, heap spaces, garbage collection, active handles and event-loop lag (${examples}…). ` +
      'They are not listed one by one above; their names and meanings are those of prom-client\'s `collectDefaultMetrics`.',
  ].join('\n');
  return `${[...sections, processMetrics].join('\n\n')}\n`;
}

/** `doc` with the part between the catalogue markers replaced by `renderCatalogue()`. Throws if a marker is missing. */
export function spliceCatalogue(doc: string): string {
  const start = doc.indexOf(CATALOGUE_START);
  const end = doc.indexOf(CATALOGUE_END, start);
  if (start < 0 || end < 0) throw new DoraError('INVALID_ARGUMENT', `Cannot place the metrics catalogue: "${CATALOGUE_START}" and "${CATALOGUE_END}" must both be in the document, in that order`);
  return `${doc.slice(0, start + CATALOGUE_START.length)}\n\n${renderCatalogue()}\n${doc.slice(end)}`;
}

function row(spec: MetricSpec): string {
  const labels = spec.labels.length === 0 ? '—' : spec.labels.map((l) => `\`${l}\``).join(', ');
  const unit = spec.name.endsWith('_seconds') ? ' (seconds)' : spec.name.endsWith('_bytes') ? ' (bytes)' : '';
  const buckets = spec.buckets === undefined ? '' : ` Buckets${unit}: ${spec.buckets.join(', ')}.`;
  const cells = [`\`${spec.name}\``, spec.type, labels, spec.on.map((r) => ROLE_NAMES[r]).join(', '), `${spec.help}${buckets}`];
  return `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
}
