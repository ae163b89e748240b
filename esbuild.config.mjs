// Builds the Lambda bundle, the CLI and the CDK construct. The AWS SDK is bundled (not taken from the runtime) so the
// deployed code runs the exact SDK version the tests ran.
import { build } from 'esbuild';
import { chmod } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

/** Shared with bench/cold.ts, which measures the same bundle. */
export const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  // ESM builds of the SDK tree-shake far better than its CommonJS ones (801 KB -> ~550 KB, faster init).
  mainFields: ['module', 'main'],
  // CommonJS dependencies inside an ESM bundle still call require() for Node built-ins.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
};

async function main() {
await build({
  ...common,
  entryPoints: { handler: 'src/handler.ts' },
  outExtension: { '.js': '.mjs' },
  outdir: 'dist',
  metafile: false,
});

await build({
  ...common,
  entryPoints: { cli: 'src/cli/main.ts' },
  outExtension: { '.js': '.mjs' },
  outdir: 'dist',
  // The local servers (dynalite, s3rver) pull in native and dynamic modules: load them from node_modules.
  external: ['dynalite', 's3rver', 'classic-level', 'level'],
  banner: { js: "#!/usr/bin/env node\n" + common.banner.js },
});

// The CDK construct for the package (`ses-audit/cdk`, with the declarations tsconfig.cdk.json emits). It sits
// beside handler.mjs, which it deploys. aws-cdk-lib and constructs are the user's app's own (peer dependencies);
// readable, unminified code for people who step into it.
await build({
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: common.target,
  entryPoints: { cdk: 'infra/index.ts' },
  outExtension: { '.js': '.mjs' },
  outdir: 'dist',
  external: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs'],
  legalComments: 'none',
  logLevel: 'warning',
});

// The `bin`: runnable as ./dist/cli.mjs too, not only through npm's links (which set the bit themselves).
await chmod('dist/cli.mjs', 0o755);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
