import { describe, expect, it } from 'vitest';
import { sshConfigFor } from '../../src/transport/ssh-config.js';

const config = `# the operator's ~/.ssh/config
User fallback-not-first
Host prefect-box prefect-*
  HostName 100.78.180.34
  User daniel
  Port=2222
  IdentityFile "~/.ssh/id prefect" ~/.ssh/ignored
Host *.internal !bastion.internal
  HostName %h.example.net
  UserKnownHostsFile ~/.ssh/known_hosts_internal /etc/ssh/other
Match host prefect-box exec "true"
  User from-match
Host *
  User everyone
  Port 22
`;

describe('ssh_config', () => {
  it('fills in what a matching Host block says, the first value of each keyword winning', () => {
    expect(sshConfigFor(config, 'prefect-box')).toEqual({
      hostName: '100.78.180.34',
      user: 'fallback-not-first',
      port: 2222,
      identityFiles: ['~/.ssh/id prefect'],
    });
  });

  it('matches wildcards, honours negation, expands %h, and skips Match blocks', () => {
    expect(sshConfigFor(config, 'db.internal')).toEqual({
      hostName: 'db.internal.example.net',
      user: 'fallback-not-first',
      port: 22,
      userKnownHostsFile: '~/.ssh/known_hosts_internal',
    });
    expect(sshConfigFor(config, 'bastion.internal').hostName).toBeUndefined();
    expect(sshConfigFor(config, 'other').user).toBe('fallback-not-first');
  });

  it('ignores what it cannot use: a bad port, unknown keywords, comments', () => {
    expect(sshConfigFor('Host x\n  Port many\n  ForwardAgent yes\n  # HostName no\n', 'x')).toEqual({});
  });
});
