// Bundles the extension (dist/extension.js, `vscode` left external) and, with --tests, each unit
// and end-to-end test into out/test/{unit,e2e}/ so `node --test` runs them in plain Node.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';

const tests = process.argv.includes('--tests');
const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: true, logLevel: 'warning' };

if (tests) {
  for (const kind of ['unit', 'e2e']) {
    const entryPoints = readdirSync(`test/${kind}`)
      .filter((name) => name.endsWith('.test.ts'))
      .map((name) => `test/${kind}/${name}`);
    await build({ ...common, entryPoints, outdir: `out/test/${kind}`, external: ['vscode', 'playwright-core'] });
  }
} else {
  await build({ ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'], minify: true });
}
