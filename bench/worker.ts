/** Runs one method on one file and prints its time and peak memory as JSON (one child process per run). */
import { peakRssMiB } from './fmt.js';
import { METHODS } from './methods.js';

const [method, file] = process.argv.slice(2);
const run = METHODS[method];
if (!run) {
  console.error(`unknown method ${method}`);
  process.exit(2);
}
const started = performance.now();
const cpu0 = process.cpuUsage();
const result = await run(file);
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  JSON.stringify({ method, file, ms, cpuMs: (cpu.user + cpu.system) / 1000, peakRssMiB: peakRssMiB(), ...result }) + '\n',
);
