// Security requirements as the OpenAPI document names them (components.securitySchemes in
// openapi.plugin.ts). Routes state theirs in their schema, beside the guards that enforce them.
// Functions, not constants: a shared object would be written to the YAML as an anchor and aliases,
// which some OpenAPI tools do not follow.

type Requirement = Array<Record<string, string[]>>;

/** An OIDC access token or a personal access token, as `Authorization: Bearer`. */
export const bearer = (): Requirement => [{ bearer: [] }];

/** Bearer, or `Authorization: Basic login:PAT` (forward-auth, SPEC §6.5). */
export const bearerOrBasic = (): Requirement => [{ bearer: [] }, { basic: [] }];

/** No credential. */
export const publicRoute = (): Requirement => [];
