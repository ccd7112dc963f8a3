// Builds web/dist: one hashed JS bundle, one hashed stylesheet and the
// index.html that names them. The output is deterministic, so CI can rebuild
// and compare it with the committed copy (check-fresh.sh).

import { build } from 'esbuild';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, 'dist');

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });

const result = await build({
  absWorkingDir: here,
  entryPoints: { app: 'src/main.ts', styles: 'src/styles.css' },
  outdir: 'dist/assets',
  entryNames: '[name]-[hash]',
  bundle: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
  minify: true,
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.entries(result.metafile.outputs);
const js = outputs.find(([, o]) => o.entryPoint === 'src/main.ts')?.[0];
const css = outputs.find(([, o]) => o.entryPoint === 'src/styles.css')?.[0];
if (!js || !css) throw new Error('build: missing an output');

const rel = (p) => path.relative('dist', p).split(path.sep).join('/');
const html = (await readFile(path.join(here, 'src/index.html'), 'utf8'))
  .replace('{{js}}', rel(js))
  .replace('{{css}}', rel(css));
await writeFile(path.join(dist, 'index.html'), html);

for (const [file, o] of outputs) console.log(`${rel(file)}\t${(o.bytes / 1024).toFixed(1)} KiB`);
