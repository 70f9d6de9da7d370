import { kindTable } from '../../../../test/kind-table.js';

kindTable(import.meta.dirname, [
  {
    drift: 'one deployment paused by hand',
    answer: {
      url: /deployments\/filter$/,
      change: (all: { name: string; paused: boolean }[]) => all.map((d) => (d.name === 'live-score' ? { ...d, paused: true } : d)),
    },
    expected: () => ['deploy live-score'],
  },
]);
