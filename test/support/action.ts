/** The file the runner runs for the action (`node FILE`), as action.yml's `runs.main` will name it. */
import { join } from 'node:path';
import { repoRoot } from '../shared.js';

/** The action's entry point as built by `npm run build`: tsc's output of action/main.ts. */
export function actionEntryFile(): string {
  return join(repoRoot, 'dist', 'action', 'main.js');
}
