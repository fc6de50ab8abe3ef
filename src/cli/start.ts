import type { Command } from 'commander';
import { describeTarget, targetFromConfig } from '../db/connect.ts';
import { releaseStartupMemory } from '../process-tuning.ts';
import { configFor } from './shared.ts';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('serve (what npm start runs)')
    .action(async (_opts, cmd: Command) => {
      const config = configFor(cmd);
      // The provider and the web app (Fastify, every route, the OpenAPI plugin) load here, not for
      // every command: the operator commands only need the core context, and start in half the time.
      const { installSignalHandlers, startServer } = await import('../server.ts');
      const { createContext } = await import('../context.ts');
      const ctx = await createContext(config);
      const target = targetFromConfig(config);
      ctx.log.info({ database: describeTarget(target) }, 'database ready');
      const admin = await ctx.users.ensureFirstAdmin(config.adminPassword);
      if (admin?.generated) {
        // Printed once, to the terminal, never to the log stream.
        process.stdout.write(
          `\nCreated the first administrator.\n  login:    ${admin.login}\n  password: ${admin.password}\nThis password is shown once: keep it now.\n\n`,
        );
      } else if (admin) {
        ctx.log.info({ login: admin.login }, 'created the first administrator with CELLS_AUTH_ADMIN_PASSWORD');
      }
      let server;
      try {
        server = await startServer(ctx);
      } catch (err) {
        // A TLS setting that cannot be used, a port in use: release the database before the one-line exit.
        await ctx.close();
        throw err;
      }
      // On the embedded database, the operator commands of other shells are run here (it is ours alone).
      let commands: { close(): Promise<void> } | undefined;
      if (target.kind === 'pglite' && target.dir) {
        const { serveOperatorCommands } = await import('./served-commands.ts');
        commands = await serveOperatorCommands({ ctx, pgliteDir: target.dir, log: ctx.log }).then(
          (served) => {
            ctx.log.info({ socket: served.path }, 'running the operator commands of other shells');
            return served;
          },
          (err: Error) => {
            ctx.log.warn({ err: err.message }, 'operator commands cannot reach this server: stop it to run them');
            return undefined;
          },
        );
      }
      installSignalHandlers(
        {
          ...server,
          close: async () => {
            await commands?.close();
            await server.close();
          },
        },
        ctx.log,
      );
      releaseStartupMemory();
      // For the person starting it (how to trust a local root), like the admin password above.
      if (server.tls?.notice.length) process.stdout.write(`\n${server.tls.notice.join('\n')}\n\n`);
      ctx.log.info({ url: server.url, issuer: `${config.publicUrl}/oidc` }, 'cells-auth is serving');
    });
}
