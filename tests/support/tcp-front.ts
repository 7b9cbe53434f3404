import net from "node:net";
import type { AddressInfo } from "node:net";

/**
 * A fixed address in front of a service whose port changes, like a Kubernetes Service in front
 * of the pods of a rolling update: while no backend is set, connections are refused (reset).
 */
export async function startTcpFront(): Promise<{ url: string; route(port: number | undefined): void; close(): Promise<void> }> {
  let backend: number | undefined;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    if (backend === undefined) return void client.destroy();
    const upstream = net.connect(backend, "127.0.0.1");
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    client.pipe(upstream).pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    route: (port) => {
      backend = port;
      if (port === undefined) for (const socket of sockets) socket.destroy();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
