import { spawn } from 'node:child_process';
import { mkdir, open, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DoraError } from '../../common/errors.js';
import { detachMounts, mountDevice } from '../mount-points.js';

/**
 * Opens /dev/fuse and mounts it at `mountPoint` with mount(8) (`-i`: no helper), handing it the
 * open device as fd 3: needs root (CAP_SYS_ADMIN). A dead mount left there by a crashed daemon
 * (ENOTCONN) is detached first; a live one is refused ("Mountpoint in use").
 */
export async function mountFuseDevice(mountPoint: string, options: { allowOther: boolean }): Promise<FileHandle> {
  await prepare(mountPoint);
  const device = await open('/dev/fuse', 'r+');
  try {
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    const flags = [`fd=3`, 'rootmode=40000', `user_id=${uid}`, `group_id=${gid}`, 'default_permissions', 'max_read=1048576', ...(options.allowOther ? ['allow_other'] : [])];
    const mount = spawn('mount', ['-i', '-t', 'fuse.dora', '-o', flags.join(','), 'dora', mountPoint], { stdio: ['ignore', 'ignore', 'pipe', device.fd] });
    let stderr = '';
    mount.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      mount.once('error', reject);
      mount.once('exit', resolve);
    });
    if (code !== 0) throw new DoraError('PERMISSION_DENIED', `Cannot mount FUSE at "${mountPoint}": mount exited with ${code}: ${stderr.trim()} (the kernel protocol needs root; set fuse.transport=libfuse otherwise)`);
    return device;
  } catch (error) {
    await device.close();
    throw error;
  }
}

async function prepare(mountPoint: string): Promise<void> {
  const here = await stat(mountPoint).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOTCONN' || error.code === 'ENXIO') return 'dead' as const;
    if (error.code === 'ENOENT') return 'missing' as const;
    throw error;
  });
  if (here === 'dead') return detachMounts(mountPoint); // a crashed daemon's mount: "Transport endpoint is not connected"
  if (here === 'missing') {
    await mkdir(mountPoint, { recursive: true });
    return;
  }
  if (!here.isDirectory()) throw new DoraError('NOT_A_DIRECTORY', `Cannot mount at "${mountPoint}": it is not a directory`);
  const parent = await stat(dirname(mountPoint));
  if (parent.dev !== here.dev) throw new DoraError('ALREADY_EXISTS', `Cannot mount at "${mountPoint}": Mountpoint in use (something is mounted there)`);
}

/**
 * Lets the kernel read ahead `kib` KiB of a sequential reader on this mount (its backing device's
 * read_ahead_kb; FUSE starts at 128): with requests of up to 1 MiB, large reads need a window as
 * large. Best effort: left as it is where /sys is read-only.
 */
export async function setReadAhead(mountPoint: string, kib: number): Promise<void> {
  const device = await mountDevice(mountPoint);
  if (device !== undefined) await writeFile(`/sys/class/bdi/${device}/read_ahead_kb`, String(kib)).catch(() => undefined);
}
