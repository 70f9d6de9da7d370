// vitest global setup: builds (or finds) the cached image once before any test file boots hosts,
// and clears hosts left behind by a crashed or interrupted run.
import { cleanLeftovers } from './host.js';
import { ensureImage, RELEASES, type Release } from './image.js';

export default async function setup(): Promise<void> {
  await cleanLeftovers();
  // One after the other: two debootstraps at once would only compete for the same two cores.
  for (const release of Object.keys(RELEASES) as Release[]) await ensureImage((line) => console.log(`[testhosts] ${line}`), release);
}
