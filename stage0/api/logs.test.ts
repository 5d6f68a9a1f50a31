// GetLogs' pipe from journalctl to the stream, with a stand-in journalctl on PATH: lines batched per read
// and a last unterminated one kept, a failing journalctl as INTERNAL with its last stderr line, the stream
// ended at until_time while following, and journalctl stopped when the client goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ServerWritableStream } from '@grpc/grpc-js';
import { pipeJournal } from './logs.js';

class FakeCall extends EventEmitter {
  readonly writes: string[][] = [];
  ended = false;
  errors: { code?: number; details?: string }[] = [];
  constructor() {
    super();
    this.on('error', (e: { code?: number; details?: string }) => this.errors.push(e));
  }
  write(m: { lines: string[] }): boolean { this.writes.push(m.lines); return true; }
  end(): void { this.ended = true; }
}

async function withJournalctl(script: string, fn: () => Promise<void>): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rkt-fake-journalctl-'));
  await fs.writeFile(path.join(dir, 'journalctl'), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  const saved = process.env['PATH'];
  process.env['PATH'] = `${dir}:${saved ?? '/usr/bin:/bin'}`;
  try {
    await fn();
  } finally {
    process.env['PATH'] = saved;
    await fs.rm(dir, { recursive: true, force: true });
  }
}

const pipe = (call: FakeCall, o: { untilMs?: number } = {}) =>
  pipeJournal(call as unknown as ServerWritableStream<unknown, { lines: string[] }>, { args: ['-D', '/j'], uuid: 'u' }, { ...o, debug: () => undefined });

test('the lines journalctl prints, its argv as given, then the end of the stream', async () => {
  await withJournalctl('echo "args: $*"; printf "a\\n\\nb\\n"; printf "tail"', async () => {
    const call = new FakeCall();
    await pipe(call).done;
    assert.deepEqual(call.writes.flat(), ['args: -D /j', 'a', 'b', 'tail']);
    assert.equal(call.ended, true);
    assert.deepEqual(call.errors, []);
  });
});

test('a failing journalctl is INTERNAL with its last stderr line', async () => {
  await withJournalctl('echo "Failed to open journal: Permission denied" >&2; exit 1', async () => {
    const call = new FakeCall();
    await pipe(call).done;
    assert.deepEqual(call.errors, [{ code: 13, details: 'GetLogs: journalctl exited with status 1: Failed to open journal: Permission denied' }]);
    assert.equal(call.ended, false);
  });
});

test('following: the stream ends at until_time; a client that goes stops journalctl', async () => {
  await withJournalctl('echo first; exec sleep 30', async () => {
    const call = new FakeCall();
    const t = Date.now();
    await pipe(call, { untilMs: Date.now() + 300 }).done;
    assert.ok(Date.now() - t < 5000);
    assert.deepEqual(call.writes, [['first']]);
    assert.equal(call.ended, true);

    const gone = new FakeCall();
    const p = pipe(gone);
    setTimeout(() => gone.emit('cancelled'), 200);
    await p.done;
    assert.equal(gone.ended, false, 'nothing more is sent to a client that went');
  });
});
