/** The service database: PostgreSQL through Kysely, on a server (`pg`) or embedded (PGlite). */
export {
  openDatabase,
  type Database,
  type OpenDatabaseOptions,
  type TransactionOptions,
} from './database.js';
export { MigrationError, type Migration, type MigrationReport, type MigrationScope } from './migrations.js';
export { PGliteDialect, PGliteSessionTimeoutError, type PGliteDialectOptions } from './pglite-dialect.js';
export {
  DEFAULT_INBOX_RETENTION_HOURS,
  DEFAULT_OUTBOX_DEAD_LETTER_RETENTION_HOURS,
  DEFAULT_OUTBOX_SENT_RETENTION_HOURS,
  startRetention,
  type Retention,
  type RetentionOptions,
  type RetentionReport,
} from './retention.js';
export { DEFAULT_DATABASE_TIMEOUTS, type DatabaseTimeouts } from './timeouts.js';
export {
  createPgliteDataDir,
  defaultPgliteTemplateDir,
  ensurePgliteTemplate,
  isPgliteDataDir,
  type PgliteTemplateOptions,
} from './pglite-template.js';
export { PGLITE_NODE_FLAGS, PGLITE_SETTINGS, pgliteStartParams } from './pglite-settings.js';
export type { PlatformTables } from './platform-schema.js';
