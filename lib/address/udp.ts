/**
 * `udp:HOST:PORT`: UDP datagrams, one message each. `serve` takes datagrams from any sender
 * (one session per sender, see `_datagram.ts`); `send` and `pipe` talk to one server from a
 * socket of their own on a free port, which is where the replies come back.
 *
 * @example
 * ```ts
 * import { udpTransport } from "./udp.ts";
 *
 * udpTransport.parse("127.0.0.1:5353"); // { scheme: "udp", host: "127.0.0.1", port: 5353, ... }
 * ```
 * @module
 */
import { UnavailableError } from "../errors.ts";
import { DatagramClient, DatagramListener } from "./_datagram.ts";
import { hostPort, parseHostPort } from "./tcp.ts";
import type { Address, Transport } from "./types.ts";

/** A UDP host and port. */
export interface UdpAddress extends Address {
  /** Always `udp`. */
  readonly scheme: "udp";
  /** Host name or IP literal, without IPv6 brackets. */
  readonly host: string;
  /** Port; 0 asks the OS for a free one when listening. */
  readonly port: number;
}

/** The largest UDP payload over IPv4: 65,535 less the IP and UDP headers. */
export const MAX_UDP_DATAGRAM = 65_507;

const isIp = (host: string) => /^[\d.]+$/.test(host) || host.includes(":");

const peerName = (from: Deno.Addr) => {
  const { hostname, port } = from as Deno.NetAddr;
  return `udp:${hostPort(hostname, port)}`;
};

/** `udp:HOST:PORT`, `udp:PORT`, `udp:[::1]:PORT`. */
export const udpTransport: Transport<UdpAddress> = {
  scheme: "udp",
  syntax: ["udp:HOST:PORT", "udp:PORT", "udp:[::1]:PORT"],
  help: "UDP datagrams, one message each (host defaults to 127.0.0.1)",
  messages: true,
  datagrams: true,
  parse: (rest) => parseHostPort("udp", rest),
  connect(address) {
    const socket = Deno.listenDatagram({
      transport: "udp",
      hostname: address.host.includes(":") ? "::" : "0.0.0.0",
      port: 0,
    });
    const to: Deno.NetAddr = { transport: "udp", hostname: address.host, port: address.port };
    return Promise.resolve(
      new DatagramClient(socket, to, address.text, {
        maxMessage: MAX_UDP_DATAGRAM,
        // A name (localhost) may answer from any of its addresses: the port must match.
        fromServer: (from) => {
          const { hostname, port } = from as Deno.NetAddr;
          return port === address.port && (!isIp(address.host) || hostname === address.host);
        },
      }),
    );
  },
  listen(address) {
    let socket: Deno.DatagramConn;
    try {
      socket = Deno.listenDatagram({ transport: "udp", hostname: address.host, port: address.port });
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse) {
        throw new UnavailableError(`Cannot listen on ${address.text}: address in use`);
      }
      throw new Error(`Cannot listen on ${address.text}: ${(error as Error).message}`);
    }
    const bound = socket.addr as Deno.NetAddr;
    return Promise.resolve(
      new DatagramListener(socket, `udp:${hostPort(bound.hostname, bound.port)}`, {
        maxMessage: MAX_UDP_DATAGRAM,
        peerName,
      }),
    );
  },
};
