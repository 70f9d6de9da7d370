// vitest global setup: builds (or finds) the cached image once before any test file boots hosts,
// and clears hosts left behind by a crashed or interrupted run.
import { cleanLeftovers } from './host.js';
import { ensureImage } from './image.js';

export default async function setup(): Promise<void> {
  await cleanLeftovers();
  await ensureImage((line) => console.log(`[testhosts] ${line}`));
}
