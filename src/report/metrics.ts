import type { Spec } from '../model/spec.js';
import { writeFileAtomic } from './atomic.js';
import type { Report } from './report.js';

/**
 * Prometheus text format for node_exporter's textfile collector, written atomically so the
 * collector never reads half a file: per host and resource whether it drifted, and the run's time,
 * result and duration.
 */
export function renderMetrics(report: Report, spec: Spec): string {
  const label = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const command = `command="${report.command}"`;
  const lines = [
    '# HELP reconcile_last_run_timestamp_seconds When the last run started.',
    '# TYPE reconcile_last_run_timestamp_seconds gauge',
    `reconcile_last_run_timestamp_seconds{${command}} ${Date.parse(report.startedAt) / 1000}`,
    '# HELP reconcile_last_run_success 1 when the last run had no error.',
    '# TYPE reconcile_last_run_success gauge',
    `reconcile_last_run_success{${command}} ${report.result === 'error' ? 0 : 1}`,
    '# HELP reconcile_last_run_duration_seconds Wall time of the last run.',
    '# TYPE reconcile_last_run_duration_seconds gauge',
    `reconcile_last_run_duration_seconds{${command}} ${report.durationMs / 1000}`,
    '# HELP reconcile_host_up 1 when the host could be read.',
    '# TYPE reconcile_host_up gauge',
    ...report.hosts.map((h) => `reconcile_host_up{host="${label(h.host)}"} ${h.status === 'failed' || h.status === 'skipped' ? 0 : 1}`),
    '# HELP reconcile_host_group 1 for each inventory group a host is in (join on host for per-group views).',
    '# TYPE reconcile_host_group gauge',
    ...report.hosts.flatMap((h) => h.groups.map((g) => `reconcile_host_group{host="${label(h.host)}",group="${label(g)}"} 1`)),
    '# HELP reconcile_host_drift 1 when the host differs from the spec (actions pending or problems).',
    '# TYPE reconcile_host_drift gauge',
    ...report.hosts.map((h) => `reconcile_host_drift{host="${label(h.host)}"} ${h.status === 'drift' ? 1 : 0}`),
    '# HELP reconcile_resource_drift 1 when the resource differs from the spec.',
    '# TYPE reconcile_resource_drift gauge',
  ];
  for (const host of report.hosts) {
    const drifted = new Set([...host.actions.map((a) => a.resource), ...host.problems.map((p) => p.split(': ')[0]!)]);
    const declared = spec.hosts.find((h) => h.target.name === host.host)?.resources.map((r) => r.name) ?? [];
    for (const resource of declared) {
      lines.push(
        `reconcile_resource_drift{host="${label(host.host)}",resource="${label(resource)}"} ${host.status === 'drift' && drifted.has(resource) ? 1 : 0}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function writeMetrics(path: string, report: Report, spec: Spec): Promise<void> {
  await writeFileAtomic(path, renderMetrics(report, spec));
}
