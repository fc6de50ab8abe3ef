/**
 * The metadata the provider builds a client from, as this instance sees it: the same object for as
 * long as the client is unchanged (context.ts keeps it a second, and forgets it at once on a change
 * made here), so that what is worked out from it may be kept exactly that long.
 */
export interface ClientMetadataSource {
  get(clientId: string): Promise<object | undefined>;
  /** What `get` would answer now without waiting, once known; undefined when it would have to load. */
  peek(clientId: string): { value: object | undefined } | undefined;
}
