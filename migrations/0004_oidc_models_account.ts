import { sql, type Kysely } from 'kysely';

// Frozen: later changes go in new migrations. One statement per call (PGlite runs them one by one).

export async function up(db: Kysely<any>): Promise<void> {
  // Deleting a user revokes their sessions, grants, codes and tokens: every provider model that
  // names the account. The account lives in the payload (the provider's own field); an expression
  // index finds those rows without a new column the adapter would have to keep in step. Partial:
  // interactions and other account-less models stay out of it.
  await db.schema
    .createIndex('oidc_models_account_id')
    .on('oidc_models')
    .expression(sql`(payload ->> 'accountId')`)
    .where(sql<boolean>`(payload ->> 'accountId') is not null`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('oidc_models_account_id').execute();
}
