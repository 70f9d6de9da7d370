import type { SystemdService } from '../spec/generated/setup.js';
import { afterReferences, unitToken, type ResourceType } from './types.js';

/** A systemd service: unit file, enabled, running or stopped. */
export const systemdService: ResourceType<SystemdService> = {
  kind: 'systemd_service',
  defaultName: (spec) => `systemd_service:${spec.unit}`,
  provides: (spec) => [unitToken(spec.unit)],
  references: (spec) => afterReferences(spec.after),
};
