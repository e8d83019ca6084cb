import type { Command } from 'commander';
import { checkLocal } from '../doctor/local.ts';
import { checkRemote } from '../doctor/remote.ts';
import { emptyReport } from '../doctor/report.ts';
import { EXIT } from '../exit.ts';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the configuration, the tiers file, the database, PayPal (credentials, webhook) and Discord (token, intent, server, audit channel, role order); name every problem')
    .option('--offline', 'only the checks on this machine: no call to PayPal or Discord')
    .action(async (o: { offline?: boolean }) => {
      const r = emptyReport();
      const { config, catalog } = checkLocal(r);
      if (o.offline === true) r.found.push('PayPal and Discord: not checked (--offline)');
      else if (config !== null) await checkRemote(r, config, catalog);
      else r.found.push('PayPal and Discord: not checked until the configuration is valid');
      process.stdout.write(r.found.map((f) => `${f}\n`).join(''));
      if (r.warnings.length > 0) process.stderr.write(r.warnings.map((w) => `warning: ${w}\n`).join(''));
      if (r.problems.length > 0) {
        process.stderr.write(`${r.problems.length} problem(s):\n${r.problems.map((p) => `  - ${p}`).join('\n')}\n`);
        process.exitCode = EXIT.failure;
      } else {
        process.stdout.write('all checks passed\n');
      }
    });
}
