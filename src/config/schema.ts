import { z } from 'zod';

// Every setting of the service. This schema is the only description of the configuration: the
// defaults in config/default.yaml, the environment mapping in load.ts and the error messages at boot
// all come from it. Its objects are strict: a misspelt key (`throtle`, `public_url`) stops the
// start naming it, instead of leaving the default silently in force.

const duration = z.number().int().positive();

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'expected host:port, e.g. 0.0.0.0:8080');

const publicUrl = z
  .url({ protocol: /^https?$/, error: 'expected an absolute http(s) URL' })
  .transform((u) => u.replace(/\/+$/, ''))
  .refine((u) => !new URL(u).search && !new URL(u).hash, 'must not carry a query or fragment')
  // The provider is mounted at /oidc and the pages at /interaction, /oauth2/oob, … on the root: a
  // path here would publish an issuer and page URLs this server does not answer.
  .refine((u) => new URL(u).pathname === '/', 'must not have a path: cells-auth is served from the root of its host');

// TLS modes are a discriminated union: a wrong combination fails at boot naming the setting.
export const tlsSchema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('none') }),
  z.strictObject({
    mode: z.literal('file'),
    certFile: z.string().min(1, 'required when tls.mode is file'),
    keyFile: z.string().min(1, 'required when tls.mode is file'),
  }),
  z.strictObject({
    mode: z.literal('self'),
    // Extra names and addresses for the leaf; the public URL's host is always included.
    hosts: z.array(z.string().min(1)).default([]),
  }),
  z.strictObject({
    mode: z.literal('letsencrypt'),
    email: z.email('an e-mail address is required for Let\'s Encrypt'),
    acceptTos: z.literal(true, 'the ACME subscriber agreement must be accepted (tls.acceptTos: true)'),
    // "production", "staging" or any ACME directory URL.
    directory: z.union([z.literal('production'), z.literal('staging'), z.url()]).default('production'),
    // Days before expiry at which a certificate is renewed.
    renewDays: z.number().int().min(1).max(60).default(30),
    // Port that answers HTTP-01 challenges (80 in production; tests use a high port).
    httpChallengePort: z.number().int().min(1).max(65535).default(80),
  }),
]);

/** The keys each TLS mode reads (its `mode` included), from the schema itself. */
export const TLS_MODE_KEYS: Record<string, string[]> = Object.fromEntries(tlsSchema.options.map((o) => [o.shape.mode.value, Object.keys(o.shape)]));

export const configSchema = z.strictObject({
  publicUrl: publicUrl.default('http://localhost:8080'),
  // Further public URLs this service is reachable under (the `#binds...#` placeholder).
  extraPublicUrls: z.array(publicUrl).default([]),
  bind: hostPort.default('0.0.0.0:8080'),
  dataDir: z.string().min(1).default('./data'),
  database: z
    .strictObject({
      url: z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL')
        .optional(),
      poolSize: z.number().int().min(1).max(200).default(10),
    })
    .default({ poolSize: 10 }),
  tls: tlsSchema.default({ mode: 'none' }),
  log: z
    .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .default({ level: 'info' }),
  // Socket limits, so that slow or idle clients cannot hold connections open (Slowloris).
  http: z
    .strictObject({
      // A socket idle this long is closed, mid-request or not.
      connectionTimeoutSeconds: z.number().int().min(1).max(600).default(30),
      // The whole request (headers and body) must arrive within this.
      requestTimeoutSeconds: z.number().int().min(1).max(600).default(30),
      // An idle keep-alive connection is closed after this. Longer than the idle timeouts of the
      // proxies in front (nginx's upstream keepalive and AWS's load balancers: 60 s), so that a proxy
      // never sends a request on a connection this end is closing (Node's own 5 s lost requests so).
      keepAliveTimeoutSeconds: z.number().int().min(1).max(600).default(65),
    })
    .default({ connectionTimeoutSeconds: 30, requestTimeoutSeconds: 30, keepAliveTimeoutSeconds: 65 }),
  // Addresses (IPs or CIDRs) whose X-Forwarded-* headers are believed.
  trustedProxies: z.array(z.string().min(1)).default([]),
  ttl: z
    .strictObject({
      accessToken: duration.default(600),
      refreshToken: duration.default(60 * 24 * 3600),
      idToken: duration.default(3600),
      authorizationCode: duration.default(600),
      session: duration.default(14 * 24 * 3600),
      interaction: duration.default(3600),
    })
    .default({
      accessToken: 600,
      refreshToken: 60 * 24 * 3600,
      idToken: 3600,
      authorizationCode: 600,
      session: 14 * 24 * 3600,
      interaction: 3600,
    }),
  // Seconds during which a client's own parallel refreshes of one token are tolerated.
  refreshGraceSeconds: z.number().int().min(0).max(300).default(5),
  login: z
    .strictObject({
      lockoutThreshold: z.number().int().min(1).default(10),
      // Per client address and window: at most perAddress attempts on each instance, and perAddress
      // failed ones across all instances (counted in the database).
      throttle: z
        .strictObject({
          perAddress: z.number().int().min(1).default(30),
          windowSeconds: z.number().int().min(1).default(300),
        })
        .default({ perAddress: 30, windowSeconds: 300 }),
    })
    .default({ lockoutThreshold: 10, throttle: { perAddress: 30, windowSeconds: 300 } }),
  // Verified PATs kept in memory per instance (src/pat/pat-cache.ts), at most this many; 0 keeps none.
  pat: z
    .strictObject({
      cacheSize: z.number().int().min(0).max(10_000_000).default(100_000),
    })
    .default({ cacheSize: 100_000 }),
  // Operator's clients file (JSON or YAML; our shape or Cells' `staticClients`).
  clientsFile: z.string().min(1).optional(),
  adminPassword: z.string().min(8, 'must be at least 8 characters').optional(),
  // The source revision of this build (the image sets it), shown to authenticated callers of discovery.
  buildRevision: z.string().regex(/^[\w.+-]{1,100}$/, 'expected a revision such as a git commit hash').optional(),
  // argon2id cost. The defaults are above OWASP's minimum (m=19 MiB, t=2, p=1).
  password: z
    .strictObject({
      memoryKiB: z.number().int().min(19456).default(19456),
      iterations: z.number().int().min(2).default(2),
      parallelism: z.number().int().min(1).default(1),
    })
    .default({ memoryKiB: 19456, iterations: 2, parallelism: 1 }),
});

export type Config = z.infer<typeof configSchema>;
export type TlsConfig = z.infer<typeof tlsSchema>;
