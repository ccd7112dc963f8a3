// The generated AppRouter types a client: a file calling every procedure
// compiles under --strict, and a file with a wrong input type does not.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { serverBin } from './helpers.mjs';

const run = promisify(execFile);
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsc = path.join(root, 'node_modules', '.bin', 'tsc');

async function typecheck(project) {
  try {
    await run(tsc, ['-p', path.join(root, 'typecheck', project)], { cwd: root });
    return { code: 0, out: '' };
  } catch (err) {
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

describe('generated AppRouter types', () => {
  before(async () => {
    await run(serverBin, ['-gen-ts', path.join(root, 'typecheck', 'router.gen.ts'), '-transformer', 'superjson']);
    await run(serverBin, ['-gen-ts', path.join(root, 'typecheck', 'router-json.gen.ts'), '-transformer', 'json']);
  });

  it('compiles a client that calls every procedure (superjson) and a plain JSON client', async () => {
    const { code, out } = await typecheck('tsconfig.json');
    assert.equal(code, 0, out);
  });

  it('rejects a wrong input type', async () => {
    const { code, out } = await typecheck('tsconfig.bad.json');
    assert.notEqual(code, 0);
    assert.match(out, /client-bad\.ts\(11,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
  });
});
