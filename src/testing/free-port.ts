import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, for child processes that cannot be
 * told to listen on port 0. The kernel hands out ephemeral ports in sequence, so a port just
 * released is unlikely to be handed to someone else before the child binds it.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The URL of a port on 127.0.0.1 nothing listens on (a server that is gone): connections are refused. */
export async function refusingAddress(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}
