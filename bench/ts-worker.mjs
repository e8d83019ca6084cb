// Worker threads on Node 20 do not inherit `--import tsx`:
// register it here, then load the TypeScript module named by workerData.script (the benchmark signer).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.script);
