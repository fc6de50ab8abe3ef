import Fastify from 'fastify';

// Baseline: the cheapest thing Fastify can answer (no logger, one static route). The PAT
// verification scenario is measured against it.

const app = Fastify();
app.get('/', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
process.stdout.write('listening\n');
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
