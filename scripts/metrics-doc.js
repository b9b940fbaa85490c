#!/usr/bin/env node
// Rewrites the metrics catalogue in docs/metrics.md (between `<!-- catalogue:start -->` and
// `<!-- catalogue:end -->`) from src/metrics/catalogue.ts. Run after a build: `npm run docs:metrics`.
import { readFile, writeFile } from 'node:fs/promises';
import { spliceCatalogue } from '../dist/src/metrics/catalogue-markdown.js';

const doc = new URL('../docs/metrics.md', import.meta.url);
const before = await readFile(doc, 'utf8');
const after = spliceCatalogue(before);
if (after === before) {
  console.log('docs/metrics.md: the catalogue is up to date');
} else {
  await writeFile(doc, after);
  console.log('docs/metrics.md: the catalogue was rewritten');
}
