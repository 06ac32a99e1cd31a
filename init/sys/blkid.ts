// `blkid -c /dev/null -o export` probes every block device once and prints
// KEY=value blocks separated by blank lines. One spawn answers every LABEL=,
// UUID=, PARTUUID= and PARTLABEL= the config names (Fedora runs one
// `blkid -t LABEL=... -l -o device` per label). -c /dev/null: no cache file,
// which could not be written on a read-only root and could be stale.

export type BlkidDevice = Record<string, string>;

export function parseBlkidExport(text: string): BlkidDevice[] {
  const devices: BlkidDevice[] = [];
  let current: BlkidDevice = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (current.DEVNAME) devices.push(current);
      current = {};
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) current[line.slice(0, eq)] = line.slice(eq + 1).replace(/\\(.)/g, '$1');
  }
  if (current.DEVNAME) devices.push(current);
  return devices;
}
