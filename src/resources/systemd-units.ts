import type { Action } from '../model/plan.js';
import { quote } from '../shell/quote.js';

/** What the kinds that install systemd units share. */

/** daemon-reload once per host and run, before the first start or restart that needs it. */
export const daemonReload: Action = {
  id: 'daemon-reload',
  resource: 'systemd',
  verb: 'reload',
  title: 'systemctl daemon-reload',
  fields: [],
  because: 'unit files changed',
  steps: [{ script: 'systemctl daemon-reload' }],
};

/**
 * `systemd-analyze verify` exits 0 when it merely ignores a misspelt key or section (systemd#11651),
 * yet the unit then is not what was written: a line about this file that says "ignoring" fails it too.
 */
export const VERIFY_UNIT = [
  'rc_verify=$(systemd-analyze verify %s 2>&1); rc=$?',
  // Here-documents, not printf: %s is this command's placeholder for the file.
  'cat <<RC_VERIFY',
  '$rc_verify',
  'RC_VERIFY',
  '[ "$rc" -eq 0 ] || exit "$rc"',
  'if grep -F -e %s <<RC_VERIFY | grep -qi ignoring',
  '$rc_verify',
  'RC_VERIFY',
  "then echo 'systemd would ignore part of this unit (above)'; exit 1; fi",
].join('\n');

/** A failure report's last journal lines of a unit. */
export const journal = (unit: string) =>
  `echo ${quote(`last journal lines of ${unit}:`)}; journalctl -u ${quote(unit)} -n 20 --no-pager -o cat`;
