import type { PrefectProfile } from '../spec/generated/setup.js';
import type { ResourceType } from './types.js';

/** One profile in a user's Prefect profiles.toml. */
export const prefectProfile: ResourceType<PrefectProfile> = {
  kind: 'prefect_profile',
  defaultName: (spec) => `prefect_profile:${spec.user}:${spec.profile}`,
};
