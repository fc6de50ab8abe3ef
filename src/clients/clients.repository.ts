import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';

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

    delete: (clientId: string) => db.deleteFrom('clients').where('client_id', '=', clientId).returning('client_id').executeTakeFirst(),
  };
}

export type ClientsRepository = ReturnType<typeof createClientsRepository>;
