// Bundles the extension into dist/extension.js (vscode is provided by the host).
import * as esbuild from 'esbuild';

const dev = process.argv.includes('--dev');
await esbuild.build({
  entryPoints: ['src/extension.ts'],
  bundle: true,
  outfile: 'dist/extension.js',
  external: ['vscode'],
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: dev ? 'inline' : false,
  minify: !dev,
  logLevel: 'info',
});
