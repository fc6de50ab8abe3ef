import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database } from '../db/database.ts';
import type { ClientsTable } from './clients.table.ts';

export type ClientRow = Selectable<ClientsTable>;

export interface ClientRowInput {
  clientId: string;
  metadata: Record<string, unknown>;
  firstParty: boolean;
  introspect: boolean;
}

export function createClientsRepository(db: Kysely<Database>) {
  return {
    find: (clientId: string) => db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst(),

    list: () => db.selectFrom('clients').selectAll().orderBy('client_id').execute(),

    /** Undefined when the id is taken. */
    insert: (c: ClientRowInput) =>
      db
        .insertInto('clients')
        .values({ client_id: c.clientId, metadata: JSON.stringify(c.metadata), first_party: c.firstParty, introspect: c.introspect })
        .onConflict((oc) => oc.column('client_id').doNothing())
        .returningAll()
        .executeTakeFirst(),

    update: (c: ClientRowInput) =>
      db
        .updateTable('clients')
        .set({ metadata: JSON.stringify(c.metadata), first_party: c.firstParty, introspect: c.introspect, updated_at: new Date() })
        .where('client_id', '=', c.clientId)
        .returningAll()
        .executeTakeFirst(),

    /**
     * Deletes the client and, in the same statement, every provider record issued to it (codes,
     * tokens, grants), so that a client registered later under the same id inherits nothing.
     */
    delete: (clientId: string) =>
      db
        .with('gone', (qb) => qb.deleteFrom('clients').where('client_id', '=', clientId).returning('client_id'))
        .with('issued', (qb) =>
          qb
            .deleteFrom('oidc_models')
            .where(sql<string>`payload->>'clientId'`, 'in', (eb) => eb.selectFrom('gone').select('gone.client_id'))
            .returning('oidc_models.id'),
        )
        .selectFrom('gone')
        .select('gone.client_id')
        .executeTakeFirst(),
  };
}

export type ClientsRepository = ReturnType<typeof createClientsRepository>;
