import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 for fault tests: it forwards each accepted
 * connection to one of its targets (round robin), and can fail like a
 * network or a database server does:
 *
 * - cut(): every open connection is destroyed at once (a crash, a restart);
 * - refuse(): the port stops listening, so connecting fails at once (ECONNREFUSED);
 * - blackhole(): connections are accepted and nothing is forwarded (a silent
 *   peer; only the client's own timeouts end them);
 * - freeze() / thaw(): open connections stop carrying data, then resume;
 * - accept(): back to normal, on the same port.
 */
export interface Target {
  host: string;
  port: number;
}

type Mode = 'forward' | 'refuse' | 'blackhole';

export class TcpProxy {
  /** Target index of each forwarded connection, by the client's port (its socket.localPort). */
  readonly routes = new Map<number, number>();
  /** Connections accepted, all modes together. */
  accepted = 0;
  private readonly server: net.Server;
  private readonly open = new Set<net.Socket>();
  private readonly held = new Set<net.Socket>();
  /** Forwarded connections: client socket → upstream socket. */
  private readonly pairs = new Map<net.Socket, net.Socket>();
  private readonly frozen = new Set<net.Socket>();
  private mode: Mode = 'forward';
  private next = 0;
  private portNumber = 0;

  private constructor(private readonly targets: Target[]) {
    this.server = net.createServer((socket) => this.onConnection(socket));
  }

  static async start(targets: Target[]): Promise<TcpProxy> {
    if (targets.length === 0) throw new Error('a proxy needs at least one target');
    const proxy = new TcpProxy(targets);
    await proxy.listen(0);
    return proxy;
  }

  get port(): number {
    return this.portNumber;
  }

  /** Client connections open through the proxy, forwarded or held. */
  get connections(): number {
    return this.pairs.size + this.held.size;
  }

  /** Destroys every open connection, forwarded or held. */
  cut(): void {
    for (const socket of [...this.open, ...this.held]) socket.destroy();
    this.open.clear();
    this.held.clear();
  }

  /** Stops listening: new connections are refused. Open ones are left alone (cut() them too for an outage). */
  async refuse(): Promise<void> {
    this.mode = 'refuse';
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      // close() waits for every connection to end; the callback is only for the listener here.
      setImmediate(resolve);
    });
  }

  /** Accepts connections and forwards nothing. */
  async blackhole(): Promise<void> {
    if (!this.server.listening) await this.listen(this.portNumber);
    this.mode = 'blackhole';
  }

  /**
   * The open connections stop carrying data, both ways, without closing (a
   * stalled peer or a lost route); what is sent meanwhile is delivered on
   * thaw(). New connections are forwarded as usual.
   */
  freeze(): void {
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
      this.frozen.add(client);
    }
  }

  /** Frozen connections carry data again. */
  thaw(): void {
    for (const client of this.frozen) {
      const upstream = this.pairs.get(client);
      if (!upstream) continue;
      client.pipe(upstream);
      upstream.pipe(client);
    }
    this.frozen.clear();
  }

  /** Back to forwarding; connections held by blackhole() are closed. */
  async accept(): Promise<void> {
    for (const socket of this.held) socket.destroy();
    this.held.clear();
    if (!this.server.listening) await this.listen(this.portNumber);
    this.mode = 'forward';
  }

  async close(): Promise<void> {
    this.cut();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once('error', onError);
      this.server.listen({ host: '127.0.0.1', port }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.portNumber = (this.server.address() as net.AddressInfo).port;
  }

  private onConnection(client: net.Socket): void {
    this.accepted++;
    client.on('error', () => {});
    if (this.mode !== 'forward') {
      // 'refuse' only between close() and the last accepted connection: drop it.
      if (this.mode === 'refuse') return void client.destroy();
      this.held.add(client);
      client.on('close', () => this.held.delete(client));
      client.resume();
      return;
    }
    const index = this.next++ % this.targets.length;
    const target = this.targets[index]!;
    if (client.remotePort !== undefined) this.routes.set(client.remotePort, index);
    const upstream = net.connect({ host: target.host, port: target.port });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    // Closing one side closes the other, as a broken network path would.
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    this.open.add(client);
    this.open.add(upstream);
    this.pairs.set(client, upstream);
    client.on('close', () => {
      this.open.delete(client);
      this.pairs.delete(client);
      this.frozen.delete(client);
    });
    upstream.on('close', () => this.open.delete(upstream));
  }
}
