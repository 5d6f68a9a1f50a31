// sd_listen_fds(3)'s rules for which inherited fds are ours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RktError } from '../../common/errors.js';
import { forgetListenEnv, listenFdsOf } from './socket-activation.js';

test('fds 3.. when LISTEN_PID is this process; none when unset or for another process', () => {
  assert.deepEqual(listenFdsOf({ LISTEN_PID: '77', LISTEN_FDS: '2' }, 77), [3, 4]);
  assert.deepEqual(listenFdsOf({ LISTEN_PID: '78', LISTEN_FDS: '2' }, 77), []);
  assert.deepEqual(listenFdsOf({ LISTEN_FDS: '1' }, 77), []);
  assert.deepEqual(listenFdsOf({}, 77), []);
  assert.deepEqual(listenFdsOf({ LISTEN_PID: '77', LISTEN_FDS: '0' }, 77), []);
});

test('garbage in the variables is an error naming the variable', () => {
  assert.throws(() => listenFdsOf({ LISTEN_PID: '77', LISTEN_FDS: 'x' }, 77), (e: unknown) => e instanceof RktError && /^invalid LISTEN_FDS "x"/.test(e.message));
  assert.throws(() => listenFdsOf({ LISTEN_PID: 'me', LISTEN_FDS: '1' }, 77), (e: unknown) => e instanceof RktError && /^invalid LISTEN_PID "me"/.test(e.message));
});

test('the variables are removed, so programs we start do not take the sockets', () => {
  const env: NodeJS.ProcessEnv = { LISTEN_PID: '1', LISTEN_FDS: '1', LISTEN_FDNAMES: 'api', PATH: '/bin' };
  forgetListenEnv(env);
  assert.deepEqual(env, { PATH: '/bin' });
});
