#!/usr/bin/env node
// The `dora` command. Build first (`npm run build`): this runs the compiled CLI.
import { main } from '../dist/src/cli/main.js';

await main();
