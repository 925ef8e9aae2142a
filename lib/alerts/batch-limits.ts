/** The most alerts one batch call (or one Alertmanager group) may carry. */
export const MAX_BATCH_ITEMS = 1_000;
