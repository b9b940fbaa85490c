import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, waitUntilReady } from './child-process.js';
import { freePort } from './free-port.js';

export interface PythonHttpServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  /** The directory the server serves. */
  readonly root: string;
  stop(): Promise<void>;
}

/**
 * Starts Python's `http.server` over a temp directory on a free port: a real web server whose
 * directory indexes are HTML pages of links, that sends Last-Modified but no ETag, and that
 * ignores Range headers (answering 200 with the whole file), as Python 3.11's does.
 */
export async function startPythonHttpServer(): Promise<PythonHttpServer> {
  const root = await mkdtemp(join(tmpdir(), 'dora-python-http-'));
  const port = await freePort();
  // `python3 -m http.server`, with a listen backlog of 256 instead of socketserver's 5: with 5, a
  // burst of 16 connections loses SYNs, each retried only after a second.
  const main = "import runpy, socketserver; socketserver.TCPServer.request_queue_size = 256; runpy.run_module('http.server', run_name='__main__', alter_sys=True)";
  const proc = startProcess('python3', ['-c', main, '--bind', '127.0.0.1', '--directory', root, String(port)]);
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    await proc.stop();
    await rm(root, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(proc, () => answers(url), `python3 -m http.server on port ${port}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, root, stop };
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${url}/`, { method: 'HEAD', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode !== undefined);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
