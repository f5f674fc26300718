// Bundles each function into one file (fast cold start, small image): dist/<name>.js
import { build } from 'esbuild';

const entryPoints = {
  handler: 'functions/handler/server.ts',
  reconciler: 'functions/reconciler/server.ts',
  local: 'functions/local/main.ts',
  init: 'functions/init/main.ts',
  cli: 'functions/cli/main.ts',
};

await build({
  entryPoints,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  sourcemap: true,
  logLevel: 'warning',
  // Some dependencies still call require(): give the ESM bundle one.
  banner: {
    js: "import { createRequire as __jesCreateRequire } from 'node:module'; const require = __jesCreateRequire(import.meta.url);",
  },
});
