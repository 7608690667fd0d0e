/**
 * One object `agentdrift migrate` looked at and what it did to it: the report every migration
 * (migrate.ts for the tables and views, aggregatesMigrate.ts for the aggregate tables) returns and
 * the CLI prints. Its own module, so that the runner and its steps depend on it and not on each other.
 */
export interface MigrationStep {
  readonly object: string;
  readonly kind: 'database' | 'table' | 'materialized view';
  readonly action: 'created' | 'exists' | 'updated' | 'skipped';
  /** What an update changed. */
  readonly detail?: string;
  /** Why a step was skipped and what to change: agentdrift will not read this store as it is. */
  readonly problem?: string;
}
