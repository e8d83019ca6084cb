/** BENCH_NODE_FLAGS: Node/V8 flags for the service a bench starts (heap sizing, --trace-gc), never for the bench itself. */
export function benchNodeFlags(): string[] {
  return (process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
}
