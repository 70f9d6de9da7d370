// Boot-to-ssh-ready time of a test host once the image is cached: `npm run bench:boot [-- RUNS]`.
import { bootHost, stopHost } from '../test/hosts/host.js';
import { ensureImage } from '../test/hosts/image.js';

const runs = Number(process.argv[2] ?? 7);
await ensureImage((line) => console.error(line));
const seconds: number[] = [];
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  const host = await bootHost(`boot-bench-${i}`);
  seconds.push((performance.now() - started) / 1000);
  await stopHost(host.name);
}
seconds.sort((a, b) => a - b);
const median = seconds[Math.floor(seconds.length / 2)]!;
console.log(
  `test host boot to ssh-ready, ${runs} runs: median ${median.toFixed(2)} s, min ${seconds[0]!.toFixed(2)} s, max ${seconds.at(-1)!.toFixed(2)} s`,
);
