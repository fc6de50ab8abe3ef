import fc from 'fast-check';
import { Counter, Histogram, Registry, type OpenMetricsContentType } from 'prom-client';
import t from 'tap';
import { createHttpStats, DURATION_BUCKETS } from '../../src/metrics/http-stats.ts';

// The request counts and durations are kept outside prom-client (src/metrics/http-stats.ts). The
// oracle is prom-client itself: the same requests given to its own Counter and Histogram must read
// back as the same scrape, in both exposition formats.

function viaPromClient(registry: Registry) {
  const requests = new Counter({ name: 'cells_auth_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const duration = new Histogram({ name: 'cells_auth_http_request_duration_seconds', help: 'HTTP request latency by route', labelNames: ['method', 'route'], buckets: DURATION_BUCKETS, registers: [registry] });
  return (method: string, route: string, status: number, seconds: number) => {
    requests.inc({ method, route, status: String(status) });
    duration.observe({ method, route }, seconds);
  };
}

const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'HEAD'),
  route: fc.constantFrom('/a/auth/verify', '/oidc/oauth2/token', '/interaction/:uid', 'unmatched'),
  status: fc.constantFrom(200, 302, 400, 401, 404, 503),
  // Bucket bounds themselves included: a duration equal to a bound is counted in that bucket.
  seconds: fc.oneof(fc.constantFrom(0, ...DURATION_BUCKETS), fc.double({ min: 0, max: 10, noNaN: true })),
});

t.test('reads back exactly as prom-client’s own counter and histogram', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(request, { maxLength: 60 }), async (requests) => {
      const ours = new Registry();
      const theirs = new Registry();
      const stats = createHttpStats(ours);
      const record = viaPromClient(theirs);
      for (const r of requests) {
        stats.record(r.method, r.route, r.status, r.seconds);
        record(r.method, r.route, r.status, r.seconds);
      }
      const sorted = (text: string) => text.split('\n').sort().join('\n');
      t.equal(sorted(await ours.metrics()), sorted(await theirs.metrics()));
      // The registry's type fixes its format; the same registry switched is what a scrape may ask for.
      for (const r of [ours, theirs]) (r as unknown as Registry<OpenMetricsContentType>).setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
      t.equal(sorted(await ours.metrics()), sorted(await theirs.metrics()));
    }),
    { numRuns: 200 },
  );
});

t.test('buckets are cumulative and +Inf holds what no bound does', async (t) => {
  const registry = new Registry();
  const stats = createHttpStats(registry);
  for (const s of [0.0005, 0.001, 0.003, 3, 60]) stats.record('GET', '/a/auth/verify', 200, s);
  stats.record('GET', '/a/auth/verify', 401, 0.0001);
  const text = await registry.metrics();
  const bucket = (le: string) => Number(new RegExp(`_bucket\\{le="${le.replace(/[.+]/g, '\\$&')}",method="GET",route="/a/auth/verify"\\} (\\d+)`).exec(text)?.[1]);
  t.equal(bucket('0.001'), 3, 'at or below 1 ms: three');
  t.equal(bucket('0.005'), 4);
  t.equal(bucket('2.5'), 4);
  t.equal(bucket('+Inf'), 6);
  t.match(text, /cells_auth_http_requests_total\{method="GET",route="\/a\/auth\/verify",status="200"\} 5/);
  t.match(text, /cells_auth_http_requests_total\{method="GET",route="\/a\/auth\/verify",status="401"\} 1/);
  t.match(text, /cells_auth_http_request_duration_seconds_count\{method="GET",route="\/a\/auth\/verify"\} 6/);
  registry.resetMetrics();
  t.notMatch(await registry.metrics(), /route=/, 'reset empties both');
});
