// Bundles the extension into dist/extension.js (vscode is provided by the
// host) and the transcript webview's script into dist/webview.js (a page).
import * as esbuild from 'esbuild';

const dev = process.argv.includes('--dev');
const common = { bundle: true, sourcemap: dev ? 'inline' : false, minify: !dev, logLevel: 'info' };
await esbuild.build({
  ...common,
  entryPoints: ['src/extension.ts'],
  outfile: 'dist/extension.js',
  external: ['vscode'],
  format: 'cjs',
  platform: 'node',
  target: 'node20',
});
await esbuild.build({
  ...common,
  entryPoints: ['src/webview/main.ts'],
  outfile: 'dist/webview.js',
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
});
