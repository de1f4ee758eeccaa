/**
 * Socket files that never touch anybody else's file, for `serve` and `inspect --intercept`.
 *
 * Deno has no lchown, fchown, O_NOFOLLOW or renameat2, and closing a Unix listener unlinks
 * its bound path whoever owns that name by then. So a socket is bound inside a private 0700
 * directory created beside its path: nobody else can add, swap or symlink names in there,
 * so chown and unlink on names in it act on our own files, and Deno's unlink at close
 * only ever hits that directory. Whatever is at the public path is first renamed into the
 * private directory (renames never follow links), identified there by dev/inode, and only
 * then removed; anything that turns out not to be ours is put back with `link`, which
 * never replaces an existing name.
 *
 * @example
 * ```ts
 * import { bindPrivately, removeIfOurs } from "./_socket_file.ts";
 *
 * const path = `${await Deno.makeTempDir()}/app.sock`;
 * const bound = bindPrivately(path, 0o600);
 * Deno.linkSync(bound.temp, path); // publish it at its path
 * console.log(removeIfOurs(path, bound, bound.dir)); // "removed"
 * bound.dispose();
 * ```
 * @module
 */

/** The identity of a file: what survives renames and tells a swapped file apart. */
export interface FileId {
  /** Device number. */
  readonly dev: number;
  /** Null only where the OS has no inodes (not Linux). */
  readonly ino: number | null;
}

/** Do two stats describe the same file? */
export function sameFile(a: FileId, b: Deno.FileInfo | null): boolean {
  return b !== null && a.ino !== null && a.dev === b.dev && a.ino === b.ino;
}

/** `lstat`, or null when nothing is there. */
export function lstatOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/** The name a socket path's private directory gets, and how long the bound path is. */
const PRIVATE_PREFIX = ".ipcat-";
const RANDOM_CHARS = 8;
/** `DIR/.ipcat-XXXXXXXX/s` is this many bytes longer than `DIR/`. */
export const PRIVATE_OVERHEAD: number = PRIVATE_PREFIX.length + RANDOM_CHARS + "/s".length;

/** A socket bound in a private directory beside its public path. */
export interface PrivateSocket extends FileId {
  /** The listening socket, bound at `temp`. */
  readonly listener: Deno.Listener;
  /** The private 0700 directory, beside the public path. */
  readonly dir: string;
  /** Where the socket was bound, inside `dir`. */
  readonly temp: string;
  /** Close the listener and remove the (by then empty) private directory. */
  dispose(): void;
}

function directoryOf(path: string): string {
  return path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "";
}

/** Bind a socket with file mode `mode` in a new private directory beside `path`. */
export function bindPrivately(path: string, mode: number): PrivateSocket {
  const dir = makePrivateDir(directoryOf(path));
  const temp = `${dir}/s`;
  // The umask decides the socket file's mode at bind time, so there is no chmod race.
  const previous = Deno.umask(0o777 & ~mode);
  let listener: Deno.Listener;
  try {
    listener = Deno.listen({ transport: "unix", path: temp });
  } catch (error) {
    Deno.removeSync(dir);
    throw error;
  } finally {
    Deno.umask(previous);
  }
  const { dev, ino } = Deno.lstatSync(temp);
  let disposed = false;
  return {
    listener,
    dir,
    temp,
    dev,
    ino,
    dispose() {
      if (disposed) return;
      disposed = true;
      try {
        listener.close();
      } catch {
        // Already closed.
      }
      removeEmptyDir(dir);
    },
  };
}

function makePrivateDir(parent: string): string {
  for (let attempt = 0;; attempt++) {
    const random = crypto.getRandomValues(new Uint8Array(RANDOM_CHARS))
      .reduce((name, byte) => name + "abcdefghijklmnopqrstuvwxyz0123456789"[byte % 36], "");
    const dir = `${parent}${PRIVATE_PREFIX}${random}`;
    try {
      // mkdir never follows or reuses an existing name, and the umask can only narrow 0700.
      Deno.mkdirSync(dir, { mode: 0o700 });
      return dir;
    } catch (error) {
      // Someone planted that name: draw another one.
      if (!(error instanceof Deno.errors.AlreadyExists) || attempt >= 10) throw error;
    }
  }
}

function removeEmptyDir(dir: string): void {
  try {
    // Not recursive: if anything of somebody else's ended up in there, it stays.
    Deno.removeSync(dir);
  } catch {
    // Not empty (kept a file we could not put back) or already gone.
  }
}

/** What {@linkcode removeIfOurs} found at the path. */
export type Removal = "removed" | "gone" | "not ours";

/**
 * Remove the file at `path` only if it is `id`: renamed into the private directory first,
 * checked there, and put back with `link` if it was swapped in the meantime.
 */
export function removeIfOurs(path: string, id: FileId, dir: string): Removal {
  const now = lstatOrNull(path);
  if (now === null) return "gone";
  if (!sameFile(id, now)) return "not ours";
  const held = `${dir}/held`;
  try {
    Deno.renameSync(path, held);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "gone";
    throw error;
  }
  if (sameFile(id, Deno.lstatSync(held))) {
    Deno.removeSync(held);
    return "removed";
  }
  putBack(held, path);
  return "not ours";
}

/** Return a file taken by mistake to `path` without replacing whatever is there now. */
function putBack(held: string, path: string): void {
  const info = Deno.lstatSync(held);
  if (!info.isDirectory) {
    try {
      Deno.linkSync(held, path);
      Deno.removeSync(held);
      return;
    } catch (error) {
      // protected_hardlinks refuses to link another user's file: rename instead, below.
      if (!(error instanceof Deno.errors.PermissionDenied)) throw keptError(held, path, error);
    }
  }
  if (lstatOrNull(path) !== null) throw keptError(held, path, new Deno.errors.AlreadyExists());
  Deno.renameSync(held, path);
}

function keptError(held: string, path: string, cause: unknown): Error {
  return new Error(
    `${path} changed twice while ipcat was removing its socket; the file that was there is kept at ${held}`,
    { cause },
  );
}
