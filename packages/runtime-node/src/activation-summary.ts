// Summaries are platform-neutral and live in core; re-exported here for runtime-node's users.
export { type ActivationSummary, summarizeActivations } from '@neurodissect/core';
