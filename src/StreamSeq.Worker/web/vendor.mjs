// Copies the pinned browser libraries from node_modules into ../wwwroot/vendor, with their licences and versions.
// Run after `npm ci` (see README "Dashboard"); commit the result. Nothing is fetched at build or run time.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, '..', 'wwwroot', 'vendor', 'uplot');
const source = join(here, 'node_modules', 'uplot');
const version = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')).version;
mkdirSync(target, { recursive: true });
for (const [from, to] of [
  ['dist/uPlot.iife.min.js', 'uPlot.iife.min.js'],
  ['dist/uPlot.min.css', 'uPlot.min.css'],
  ['LICENSE', 'LICENSE'],
]) {
  copyFileSync(join(source, from), join(target, to));
}
writeFileSync(join(target, 'VERSION'), `${version}\n`);
console.log(`vendored uplot ${version} into ${target}`);
