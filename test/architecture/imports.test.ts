import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const src = join(root, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The project-internal modules a file imports, as paths relative to src/. */
function internalImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)].map(
    (m) => m[1]!,
  );
  return specifiers.map((specifier) => relative(src, resolve(dirname(file), specifier)));
}

const files = sourceFiles(src).map((file) => ({
  file: relative(src, file),
  imports: internalImports(file),
}));
const area = (path: string) => path.split('/')[0]!;
const storeKind = (path: string) => (path.startsWith('stores/') ? path.split('/')[1] : undefined);

describe('import directions (cli → copy → stores → core)', () => {
  it('finds the source files', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it('core imports nothing else of the project', () => {
    const bad = files
      .filter(({ file }) => area(file) === 'core')
      .flatMap(({ file, imports }) =>
        imports.filter((i) => area(i) !== 'core').map((i) => `${file} → ${i}`),
      );
    expect(bad).toEqual([]);
  });

  it('a store never imports another store, nor copy or cli', () => {
    const bad = files
      .filter(({ file }) => storeKind(file) !== undefined && file.split('/').length > 2)
      .flatMap(({ file, imports }) =>
        imports
          .filter((i) => {
            if (area(i) === 'copy' || area(i) === 'cli' || area(i) === 'serve') return true;
            return area(i) === 'stores' && storeKind(i) !== storeKind(file);
          })
          .map((i) => `${file} → ${i}`),
      );
    expect(bad).toEqual([]);
  });

  it('copy never imports cli or a concrete store', () => {
    const bad = files
      .filter(({ file }) => area(file) === 'copy')
      .flatMap(({ file, imports }) =>
        imports
          .filter((i) => area(i) === 'cli' || area(i) === 'stores')
          .map((i) => `${file} → ${i}`),
      );
    expect(bad).toEqual([]);
  });

  it('copy and stores never write to stdout or stderr', () => {
    const printing = /(?<![\w.])process\.(stdout|stderr)|console\.(log|error|warn|info|debug)/;
    const bad = files
      .filter(
        ({ file }) => area(file) === 'copy' || area(file) === 'stores' || area(file) === 'core',
      )
      .filter(({ file }) => printing.test(readFileSync(join(src, file), 'utf8')))
      .map(({ file }) => file);
    expect(bad).toEqual([]);
  });
});
