// `npm run build`'s second step: tsc's output (dist/) bundled into dist/bundle/, which bin/reconcile.js
// loads. One file instead of some 150 modules: resolving and compiling them one by one was a third
// of a no-op check's time. Commands and the live progress view stay in chunks loaded when used.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names change with their content: old ones must not pile up.
rmSync('dist/bundle', { recursive: true, force: true });

await build({
  entryPoints: ['dist/cli/main.js'],
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  // The bundled dependencies are CommonJS: give them the require and __dirname they expect.
  banner: {
    js: [
      "import { createRequire as reconcileCreateRequire } from 'node:module';",
      "import { fileURLToPath as reconcileFileURLToPath } from 'node:url';",
      'const require = reconcileCreateRequire(import.meta.url);',
      'const __filename = reconcileFileURLToPath(import.meta.url);',
      "const __dirname = reconcileFileURLToPath(new URL('.', import.meta.url));",
    ].join('\n'),
  },
  // ssh2's optional native parts: tried at run time, absent is fine (it falls back to JavaScript).
  external: ['cpu-features', '*.node'],
  logLevel: 'warning',
});
