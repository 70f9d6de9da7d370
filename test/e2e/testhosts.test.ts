import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ssh, useTestHosts } from '../hosts/fixture.js';

describe('test hosts: real systemd and OpenSSH in disposable containers', () => {
  const hosts = useTestHosts(2, 'th');

  it('boots two hosts in parallel, each running systemd as PID 1 and answering ssh with strict host-key checking', async () => {
    expect(hosts).toHaveLength(2);
    for (const host of hosts) {
      const state = await ssh(host, 'systemctl is-system-running', { allowFailure: true });
      expect(state.stdout.trim()).toMatch(/^(running|degraded)$/);
      expect((await ssh(host, 'ps -o comm= -p 1')).stdout.trim()).toBe('systemd');
    }
  });

  it('gives each host its own host key, and a wrong key is refused', async () => {
    const [a, b] = hosts as [(typeof hosts)[0], (typeof hosts)[0]];
    const keyOf = (known: string) => readFileSync(known, 'utf8').trim().split(' ').slice(1).join(' ');
    expect(keyOf(a.known_hosts)).not.toBe(keyOf(b.known_hosts));
    const served = await ssh(a, 'cut -d" " -f1,2 /etc/ssh/testhost-keys/ssh_host_ed25519_key.pub');
    expect(served.stdout.trim()).toBe(keyOf(a.known_hosts));
    // a's address with b's key: OpenSSH must refuse before running anything.
    const impostor = { ...a, known_hosts: '/dev/null' };
    const refused = await ssh(impostor, 'echo ran', { allowFailure: true });
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).not.toContain('ran');
    expect(refused.stderr).toMatch(/Host key verification failed/);
  });

  it('has daniel with passwordless sudo, root login by key, pip pointed at the wheelhouse, and the sample project', async () => {
    const host = hosts[0]!;
    expect((await ssh(host, 'sudo -n id -u')).stdout.trim()).toBe('0');
    expect((await ssh(host, 'id -un', { user: 'root' })).stdout.trim()).toBe('root');
    expect((await ssh(host, 'cat /etc/pip.conf')).stdout).toMatch(/no-index = true\nfind-links = \/opt\/wheelhouse/);
    expect((await ssh(host, 'ls /opt/wheelhouse')).stdout).toMatch(/prefect-3\.\d+\.\d+-py3-none-any\.whl/);
    const project = await ssh(host, 'cd ~/projects/projections-v2 && grep -c "name: " prefect.yaml && ls flows && stat -c %U .');
    expect(project.stdout).toMatch(/live_score\.py/);
    expect(project.stdout.trim().endsWith('daniel')).toBe(true);
    expect((await ssh(host, 'sudo -n true 2>&1')).stdout).not.toMatch(/unable to resolve/);
  });
});
