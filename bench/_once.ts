import { benchLeadsBatch, printLeadsBatch } from '/work/wt-retention/bench/leads-batch';

benchLeadsBatch(3, 100, [0]).then((r) => {
  printLeadsBatch(r);
  process.exit(0);
});
