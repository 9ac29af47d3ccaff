import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { projectRoot } from '../helpers/cli.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

describe('error codes', () => {
  it('documents every code the source raises in ERRORS.md', () => {
    const documented = readFileSync(join(projectRoot, 'ERRORS.md'), 'utf8');
    const raised = new Set<string>();
    for (const file of sourceFiles(join(projectRoot, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/new \w*Error\(\s*(?:'\w+',\s*)?'([A-Z][A-Z0-9_]+)'/g)) {
        raised.add(match[1]!);
      }
    }
    expect(raised.size).toBeGreaterThan(50);
    const missing = [...raised].filter((code) => !documented.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });
});
