import type http from 'node:http';
import type { Endpoints } from './flow.ts';
import { cpuSecondsOf, type Served } from './processes.ts';

/** How big and how long: the full run, or `--quick` (under 3 minutes, smaller seeds). */
export interface Sizes {
  quick: boolean;
  patRows: number;
  patsPresented: number;
  tokenRows: number;
  accessTokensPresented: number;
  rounds: number;
  /** Seconds per measurement of one side in one round. */
  seconds: number;
  connections: number;
  flowConcurrency: number;
  refreshChains: number;
  openLoopSeconds: number;
  memoryRuns: number;
}

export function sizesFor(quick: boolean): Sizes {
  return quick
    ? { quick, patRows: 100_000, patsPresented: 20_000, tokenRows: 100_000, accessTokensPresented: 10_000, rounds: 3, seconds: 2, connections: 32, flowConcurrency: 8, refreshChains: 16, openLoopSeconds: 6, memoryRuns: 3 }
    : { quick, patRows: 1_000_000, patsPresented: 100_000, tokenRows: 1_000_000, accessTokensPresented: 50_000, rounds: 5, seconds: 5, connections: 32, flowConcurrency: 8, refreshChains: 16, openLoopSeconds: 20, memoryRuns: 5 };
}

export interface Account {
  login: string;
  password: string;
}

/** Everything a scenario needs: the three servers, their endpoints, and the tokens to present. */
export interface BenchEnv {
  sizes: Sizes;
  ours: Served;
  /** A second cells-auth on the same database that keeps no verified PAT (pat.cacheSize 0): first sight. */
  oursUncached: Served;
  hello: Served;
  bare: Served;
  agent: http.Agent;
  oursEp: Endpoints;
  bareEp: Endpoints;
  /** Real PATs whose digests are in the database. */
  pats: string[];
  /** Access tokens of cells-auth (real rows, copied) and of the bare provider (from real sign-ins). */
  accessTokens: string[];
  bareAccessTokens: string[];
  /** `Authorization` of the introspecting resource server, the same on both. */
  introspectAuth: string;
  /** Signs in with a cheap stored hash, and with the production argon2id cost. */
  cheap: Account;
  argon: Account;
  log(line: string): void;
  /** CPU seconds so far of each Postgres backend serving the bench database, by pid. */
  dbCpu(): Promise<Map<number, number>>;
}

export const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** The `Authorization` of a check: a seeded PAT drawn at random, as a proxy in front of many clients sends them. */
export const randomPatAuthorization = (env: BenchEnv) => ({ authorization: `Bearer ${pick(env.pats)}` });

/** What the hello-world baseline answers (bench/baselines/hello.ts): its answers are checked for it. */
export const HELLO_ANSWER = '"hello":"world"';

/** CPU readers for interleave(): cells-auth and the given baseline process. */
export const cpuOf = (env: BenchEnv, baseline: Served) => ({ ours: () => cpuSecondsOf(env.ours.pid), base: () => cpuSecondsOf(baseline.pid), db: env.dbCpu });
