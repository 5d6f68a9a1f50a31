// Helpers for the metadata service functional tests: a real `rkt metadata-service` process on a free
// loopback port, a fake prepared pod directory, and a plain HTTP client bound to 127.0.0.1.
import { execa, type ResultPromise } from 'execa';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { appImageManifestPath, appInfoManifestPath, podManifestPath } from '../../common/pod-layout.js';
import { rktBin, type RktDirs } from '../harness/aci.js';

export interface ServiceProcess {
  readonly proc: ResultPromise<{ reject: false; stdin: 'ignore'; buffer: true }>;
  readonly port: number;
  readonly socket: string;
  /** stderr so far. */
  stderr(): string;
  /** Resolves once stderr matches (log lines may arrive after the HTTP reply they describe). */
  waitForStderr(re: RegExp): Promise<void>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number>;
}

/** Starts the service on 127.0.0.1 with a kernel-chosen port; resolves once it prints that it listens. */
export async function startService(dirs: RktDirs, extra: string[] = []): Promise<ServiceProcess> {
  const proc = execa(process.execPath, [rktBin(), ...dirs.globalArgs(), 'metadata-service', '--listen-port=0', '--listen-address=127.0.0.1', ...extra], {
    reject: false, stdin: 'ignore', buffer: true,
  });
  let err = '';
  proc.stderr.setEncoding('utf8');
  const ready = new Promise<{ port: number; socket: string }>((resolve, reject) => {
    proc.stderr.on('data', (d: string) => {
      err += d;
      const m = /listening on 127\.0\.0\.1:(\d+), registration socket (\S+)/.exec(err);
      if (m) resolve({ port: Number(m[1]), socket: m[2]! });
    });
    void proc.then((r) => reject(new Error(`metadata-service exited ${r.exitCode}: ${err}`)));
  });
  const { port, socket } = await ready;
  return {
    proc, port, socket,
    stderr: () => err,
    async waitForStderr(re) {
      for (let i = 0; i < 200 && !re.test(err); i++) await new Promise((r) => setTimeout(r, 25));
      if (!re.test(err)) throw new Error(`metadata-service stderr never matched ${re}:\n${err}`);
    },
    async stop() {
      proc.kill('SIGTERM');
      const r = await proc;
      return r.exitCode ?? -1;
    },
  };
}

/** Writes a prepared-looking pod dir: `pod`, and each app's image manifest (appsinfo/ or stage1 tree). */
export async function makeFakePodDir(dir: string, pod: unknown, images: Record<string, { manifest: unknown; inStage1Tree?: boolean }>): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(podManifestPath(dir), JSON.stringify(pod));
  for (const [app, img] of Object.entries(images)) {
    const file = img.inStage1Tree ? appImageManifestPath(dir, app) : appInfoManifestPath(dir, app);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, JSON.stringify(img.manifest));
  }
  return dir;
}

export interface HttpReply {
  status: number;
  contentType: string | undefined;
  body: string;
}

/** One HTTP request from 127.0.0.1 to the service, as an app would send it. */
export function httpRequest(port: number, method: string, target: string, form?: Record<string, string>): Promise<HttpReply> {
  const data = form ? Buffer.from(new URLSearchParams(form).toString()) : undefined;
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', localAddress: '127.0.0.1', port, method, path: target, agent: false,
      headers: {
        'Metadata-Flavor': 'AppContainer',
        ...(data ? { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(data.length) } : {}),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}
