import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HANDOVER_CLOCK_ENV, handoverNs, PhaseClock, processStartNs } from './phase-clock.js';

test('phases follow each other from the start; lines name each and the total', async () => {
  const c = new PhaseClock(process.hrtime.bigint() - 5_000_000n);
  c.mark('first');
  await new Promise((r) => setTimeout(r, 20));
  c.mark('second');
  const [first, second] = c.list();
  assert.ok(first !== undefined && first.ms >= 5, `the first phase began 5 ms before the clock: ${first?.ms}`);
  assert.ok(second !== undefined && second.ms >= 15);
  const lines = c.lines('stage0');
  assert.equal(lines.length, 3);
  assert.match(lines[0] ?? '', /^timing: stage0 first: [0-9]+\.[0-9] ms$/);
  assert.match(lines[2] ?? '', /^timing: stage0 total: [0-9]+\.[0-9] ms$/);
});

test('the process started before now; the handover time is read only when it is a number', () => {
  assert.ok(processStartNs() < process.hrtime.bigint());
  assert.equal(handoverNs({ [HANDOVER_CLOCK_ENV]: '123456789' }), 123456789n);
  assert.equal(handoverNs({ [HANDOVER_CLOCK_ENV]: '12x' }), undefined);
  assert.equal(handoverNs({}), undefined);
});
