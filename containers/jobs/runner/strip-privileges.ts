// Run once while the runner layer is built onto an algorithm image: removes the setuid and
// setgid bits from every file of the image, so that no program in it can give the algorithm's
// user back the privileges the launcher dropped (Batch offers no no-new-privileges switch).
import * as fs from 'node:fs';
import * as path from 'node:path';

const SKIPPED = new Set(['/proc', '/sys', '/dev']);

function strip(dir: string): number {
  let changed = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const target = path.join(dir, entry.name);
    if (SKIPPED.has(target)) continue;
    if (entry.isDirectory()) {
      changed += strip(target);
    } else if (entry.isFile()) {
      const { mode } = fs.lstatSync(target);
      if (mode & 0o6000) {
        fs.chmodSync(target, mode & 0o1777);
        changed++;
      }
    }
  }
  return changed;
}

console.log(`setuid and setgid bits removed from ${strip('/')} files`);
