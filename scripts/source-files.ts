import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** Every TypeScript file under dir, sorted, as paths relative to `base` with forward slashes (what the checks print). */
export function listSourceFiles(dir: string, base: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.ts')) out.push(relative(base, path).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}
