import type { PlanContext } from '../src/resources/types.js';

/** A plan context for a unit test: nothing else declared, no secrets, unless the test says otherwise. */
export const testContext = (over: Partial<PlanContext> = {}): PlanContext => ({
  specDir: '/',
  declared: [],
  isSecret: () => false,
  ...over,
});
