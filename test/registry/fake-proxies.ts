/**
 * Scripted HTTP proxies that misbehave at the CONNECT a tunnel starts with, for quirks no real
 * proxy here shows on demand: one drops the connection as soon as the CONNECT arrives, one
 * never answers it.
 */
import { createServer } from 'node:http';
import type { Socket } from 'node:net';

import { listen } from './fake-registry.js';

export interface FakeProxy {
  /** `http://HOST:PORT`, to put in HTTPS_PROXY. */
  url: string;
  /** How many CONNECTs arrived. */
  connects: number;
  /** How many tunnels the client has not given up yet. */
  open: number;
  close(): Promise<void>;
}

async function startProxy(onConnect: (socket: Socket) => void): Promise<FakeProxy> {
  const server = createServer();
  const sockets = new Set<Socket>();
  const proxy: FakeProxy = {
    url: '',
    connects: 0,
    get open() {
      return sockets.size;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  server.on('connect', (_request, socket: Socket) => {
    proxy.connects += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // The client hanging up shows as the end of what it sends; without reading, it never would.
    socket.on('end', () => socket.destroy()).resume();
    onConnect(socket);
  });
  proxy.url = `http://${await listen(server)}`;
  return proxy;
}

/** proxyClosingAfterConnect accepts each CONNECT and closes the connection without a word. */
export function proxyClosingAfterConnect(): Promise<FakeProxy> {
  return startProxy((socket) => socket.destroy());
}

/** proxyNeverAnsweringConnect keeps each CONNECT waiting until the client gives up. */
export function proxyNeverAnsweringConnect(): Promise<FakeProxy> {
  return startProxy(() => undefined);
}
