import { startServe, type Serve } from './server.ts';

/**
 * `npm run demo -- --serve [--port N]`: starts everything, says what a person
 * can do, and keeps running until Ctrl-C (SIGINT) or SIGTERM, then stops
 * Concierge and the stand-ins and removes the temporary database. Returns
 * the exit code.
 */
export async function runServe(o: { port: number; write: (text: string) => void }): Promise<number> {
  o.write('Starting the Discord and PayPal stand-ins, then Concierge (node --import tsx src/main.ts) with a temporary database …\n');
  let serve: Serve;
  try {
    serve = await startServe({ port: o.port });
  } catch (err) {
    o.write(`The demo could not start: ${(err as Error).message}\n`);
    return 1;
  }
  o.write(
    [
      '',
      `Concierge demo page: ${serve.url}`,
      '',
      'Open it in a browser on this machine. Per member: /subscribe to a tier, then "Approve pending checkout"',
      '(PayPal approves and Concierge grants the role); /status, /cancel, renewals, payment failures,',
      'cancelling at PayPal and refunds. Above: move the clock 1 or 30 days, kill Concierge (SIGKILL) or restart it.',
      'Roles at Discord and the audit channel update live.',
      '',
      `Concierge itself answers at ${serve.stage.serviceUrl}. Ctrl-C stops everything.`,
      '',
    ].join('\n'),
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  o.write(`\n${signal}: stopping Concierge and the stand-ins …\n`);
  await serve.close();
  o.write('Stopped.\n');
  return 0;
}
