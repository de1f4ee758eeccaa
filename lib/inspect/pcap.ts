/**
 * `inspect --pcap FILE` and `replay --to-pcap`: a classic pcap (LINKTYPE_RAW, IPv4) that
 * Wireshark and tshark open, each proxied connection one TCP stream between synthetic
 * addresses: client `10.1.0.2:40001` for connection 1, `:40002` for 2, …, server `10.0.0.1:--pcap-port`. A
 * connection gets a three-way handshake at open, its messages as PSH segments with correct
 * sequence numbers (each acknowledged by the other side), and a FIN from each side at close,
 * all stamped with the proxy's times. The bytes are the wire bytes the recording holds, so
 * per-stream totals equal the recording's.
 *
 * @example
 * ```ts
 * import { PcapWriter } from "./pcap.ts";
 *
 * const pcap = await PcapWriter.create(`${await Deno.makeTempDir()}/t.pcap`, { serverPort: 80 });
 * pcap.opened(1);
 * pcap.data(1, "c2s", new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
 * pcap.closed(1);
 * await pcap.close();
 * ```
 * @module
 */
import type { DirectionLabel } from "./log_format.ts";
import { openPrivateFile, Recorder, type RecorderOptions } from "./recorder.ts";

/** Options for {@linkcode PcapWriter}. */
export interface PcapOptions extends RecorderOptions {
  /** The server side's TCP port, which picks Wireshark's dissector (80: HTTP, 6379: Redis). */
  serverPort: number;
}

/** LINKTYPE_RAW: each packet starts with its IP header, no link layer to invent. */
const LINKTYPE_RAW = 101;
/** Largest payload per segment: well under IPv4's 65535-byte packet limit. */
const SEGMENT = 32 * 1024;
const CLIENT_ISN = 1_000_000;
const SERVER_ISN = 2_000_000;
const FIN = 0x01, SYN = 0x02, PSH = 0x08, ACK = 0x10;
/** Client ports 40001…65000, then the next client address. */
const PORTS = 25_000;

/** The synthetic client end of connection `conn`: address bytes and port. */
export function pcapClient(conn: number): { ip: number[]; port: number } {
  const n = Math.floor((conn - 1) / PORTS);
  return { ip: [10, 1 + ((n >> 8) & 0xff), n & 0xff, 2], port: 40001 + ((conn - 1) % PORTS) };
}

/** The synthetic server address. */
export const PCAP_SERVER_IP = [10, 0, 0, 1];

interface Stream {
  /** Next sequence number from the client, and from the server. */
  c2s: number;
  s2c: number;
}

/** Writes a pcap as events come; a {@linkcode RecordingSink} beside (or instead of) the recording. */
export class PcapWriter extends Recorder {
  #port: number;
  #streams = new Map<number, Stream>();

  /** Write to `out`, starting with the pcap file header. */
  constructor(out: ConstructorParameters<typeof Recorder>[0], options: PcapOptions) {
    super(out, options);
    this.#port = options.serverPort;
    const header = new DataView(new ArrayBuffer(24));
    header.setUint32(0, 0xa1b2c3d4, true);
    header.setUint16(4, 2, true);
    header.setUint16(6, 4, true);
    header.setUint32(16, 262144, true);
    header.setUint32(20, LINKTYPE_RAW, true);
    this.push(new Uint8Array(header.buffer));
  }

  /**
   * Create `path` with the recording's safety rules ({@linkcode openPrivateFile}). A pcap
   * cannot be appended to (one header per file), so an existing file must be empty.
   */
  static async create(path: string, options: PcapOptions, flag = "--pcap"): Promise<PcapWriter> {
    const file = await openPrivateFile(path, flag);
    if ((await file.stat()).size > 0) {
      file.close();
      throw new Error(
        `Cannot open ${flag} file "${path}": it is not empty; a pcap is written whole, never appended to`,
      );
    }
    return new PcapWriter(file, options);
  }

  /** Does nothing: a pcap has no place for the meta line. */
  override meta(): void {
    // The pcap has no place for it: the server port already says what the protocol is.
  }

  /** Connection `conn` opened: a synthetic three-way handshake. */
  override opened(conn: number, t: number = Date.now()): void {
    if (this.#streams.has(conn)) return;
    const stream = { c2s: CLIENT_ISN, s2c: SERVER_ISN };
    this.#streams.set(conn, stream);
    this.#packet(conn, "c2s", t, SYN, stream.c2s, 0);
    this.#packet(conn, "s2c", t, SYN | ACK, stream.s2c, stream.c2s + 1);
    stream.c2s++;
    stream.s2c++;
    this.#packet(conn, "c2s", t, ACK, stream.c2s, stream.s2c);
  }

  /** `bytes` sent in direction `dir`: PSH segments of at most 32 KiB, each acknowledged. */
  override data(conn: number, dir: DirectionLabel, bytes: Uint8Array, t: number = Date.now()): void {
    if (!this.#streams.has(conn)) this.opened(conn, t);
    const stream = this.#streams.get(conn)!;
    const back = dir === "c2s" ? "s2c" : "c2s";
    for (let at = 0; at < bytes.length; at += SEGMENT) {
      const payload = bytes.subarray(at, at + SEGMENT);
      this.#packet(conn, dir, t, PSH | ACK, stream[dir], stream[back], payload);
      stream[dir] = (stream[dir] + payload.length) >>> 0;
    }
    if (bytes.length) this.#packet(conn, back, t, ACK, stream[back], stream[dir]);
  }

  /** Connection `conn` closed: a FIN from each side. */
  override closed(conn: number, t: number = Date.now()): void {
    const stream = this.#streams.get(conn);
    if (!stream) return;
    this.#streams.delete(conn);
    this.#packet(conn, "c2s", t, FIN | ACK, stream.c2s, stream.s2c);
    stream.c2s++;
    this.#packet(conn, "s2c", t, FIN | ACK, stream.s2c, stream.c2s);
    stream.s2c++;
    this.#packet(conn, "c2s", t, ACK, stream.c2s, stream.s2c);
  }

  #packet(
    conn: number,
    dir: DirectionLabel,
    t: number,
    flags: number,
    seq: number,
    ack: number,
    payload: Uint8Array = new Uint8Array(0),
  ): void {
    const client = pcapClient(conn);
    const [src, dst, sport, dport] = dir === "c2s"
      ? [client.ip, PCAP_SERVER_IP, client.port, this.#port]
      : [PCAP_SERVER_IP, client.ip, this.#port, client.port];
    const length = 40 + payload.length;
    const packet = new Uint8Array(16 + length);
    const view = new DataView(packet.buffer);
    const ms = Math.floor(t);
    view.setUint32(0, Math.floor(ms / 1000), true);
    view.setUint32(4, (ms % 1000) * 1000, true);
    view.setUint32(8, length, true);
    view.setUint32(12, length, true);
    // IPv4 header.
    view.setUint8(16, 0x45);
    view.setUint16(18, length);
    view.setUint16(22, 0x4000); // don't fragment
    view.setUint8(24, 64); // TTL
    view.setUint8(25, 6); // TCP
    packet.set(src, 28);
    packet.set(dst, 32);
    view.setUint16(26, checksum(packet.subarray(16, 36), 0));
    // TCP header.
    view.setUint16(36, sport);
    view.setUint16(38, dport);
    view.setUint32(40, seq >>> 0);
    view.setUint32(44, flags & ACK ? ack >>> 0 : 0);
    view.setUint8(48, 5 << 4);
    view.setUint8(49, flags);
    view.setUint16(50, 65535);
    packet.set(payload, 56);
    const pseudo = sum(packet.subarray(28, 36), 0) + 6 + (20 + payload.length);
    view.setUint16(52, checksum(packet.subarray(36), pseudo));
    this.push(packet);
  }
}

/** One's complement sum of 16-bit big-endian words, not yet folded. */
function sum(bytes: Uint8Array, start: number): number {
  let total = start;
  for (let i = 0; i + 1 < bytes.length; i += 2) total += (bytes[i] << 8) | bytes[i + 1];
  if (bytes.length % 2) total += bytes[bytes.length - 1] << 8;
  return total;
}

/** The Internet checksum of `bytes` (its checksum field zero) plus `start`. */
function checksum(bytes: Uint8Array, start: number): number {
  let total = sum(bytes, start);
  while (total > 0xffff) total = (total & 0xffff) + Math.floor(total / 0x10000);
  return ~total & 0xffff;
}
