/** A mistake in how reconcile was called; printed without a stack trace, exit 1. */
export class UsageError extends Error {
  override name = 'UsageError';
}
