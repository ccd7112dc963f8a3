// Type-checks the README's client examples: every ```ts check block of
// README.md becomes its own module next to the committed generated router
// (web/src/generated/router.ts, as ./packshot-router), and tsc --strict must
// accept them all. Run from tests/trpc-client/run.sh after npm ci.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.join(here, '..', '..');
const out = path.join(here, 'readme');

const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
const blocks = [];
const fence = /^```ts check\n([\s\S]*?)^```$/gm;
for (let m; (m = fence.exec(readme)); ) {
  const line = readme.slice(0, m.index).split('\n').length;
  blocks.push({ line, code: m[1] });
}
if (blocks.length === 0) {
  console.error('readme-check: no ```ts check blocks in README.md');
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out);
copyFileSync(path.join(repo, 'web', 'src', 'generated', 'router.ts'), path.join(out, 'packshot-router.ts'));
const files = blocks.map(({ line, code }) => {
  const name = `readme-line-${line}.ts`;
  writeFileSync(path.join(out, name), code);
  return name;
});
writeFileSync(
  path.join(out, 'tsconfig.json'),
  JSON.stringify({
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: 'ES2022',
      module: 'ESNext',
      moduleResolution: 'Bundler',
      lib: ['ES2022', 'DOM'],
      types: [],
      skipLibCheck: true,
    },
    files,
  }),
);
try {
  execFileSync(path.join(here, 'node_modules', '.bin', 'tsc'), ['-p', out], { stdio: 'inherit' });
} catch {
  console.error('readme-check: a README example does not type-check (file names give its line in README.md)');
  process.exit(1);
}
console.log(`readme-check: ${files.length} README examples type-check`);
