import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';

/** `cells-auth openapi [-o FILE]`: the OpenAPI document of /a, from the routes (`npm run openapi` writes openapi.yaml). */
export function registerOpenapi(program: Command): void {
  program
    .command('openapi')
    .description('print the OpenAPI 3.1 document of the /a APIs, generated from the routes (no database needed)')
    .option('-o, --output <file>', 'write it to a file instead of standard output')
    .action(async (opts: { output?: string }) => {
      // Builds the whole app to read its routes: loaded for this command only (see start.ts).
      const { generateOpenApiYaml } = await import('../openapi/generate.ts');
      const yaml = await generateOpenApiYaml();
      if (opts.output) writeFileSync(opts.output, yaml);
      else process.stdout.write(yaml);
    });
}
