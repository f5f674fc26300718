#!/usr/bin/env node
// The `jes` command: the bundled CLI (built by `npm run build`, which `npm ci` runs through `prepare`).
import '../dist/cli.js';
