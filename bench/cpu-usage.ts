import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Where the machine's CPU went during a stage, read from /proc (Linux): each app child process,
 * the bench process itself, every PostgreSQL process together, every Java process (the broker)
 * together, and the machine as a whole. A latency figure on two cores says little without it:
 * when the processes together want more than the cores give, every leg waits for a core.
 */

/** CPU time of one process from its /proc/<pid>/stat line, in clock ticks (utime + stime), and its command name. */
export function parseProcStat(line: string): { readonly comm: string; readonly ticks: number } {
  // The command name is in parentheses and may hold spaces or parentheses itself: it ends at the last ')'.
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${line.slice(0, 80)}`);
  const fields = line
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // Fields after the name start at field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`no utime/stime in /proc/<pid>/stat: ${line.slice(0, 80)}`);
  }
  return { comm: line.slice(open + 1, close), ticks: utime + stime };
}

/** The machine's busy and total ticks from the first line of /proc/stat (iowait counts as idle). */
export function parseMachineStat(text: string): { readonly busy: number; readonly total: number } {
  const line = text.split('\n', 1)[0];
  const [label, ...rest] = line.trim().split(/\s+/);
  if (label !== 'cpu') throw new Error(`not the cpu line of /proc/stat: ${line.slice(0, 80)}`);
  // user nice system idle iowait irq softirq steal (guest and guest_nice are inside user and nice).
  const [user, nice, system, idle, iowait, irq, softirq, steal] = rest.slice(0, 8).map(Number);
  const busy = user + nice + system + irq + softirq + (steal || 0);
  return { busy, total: busy + idle + (iowait || 0) };
}

export interface CpuSnapshot {
  readonly atMs: number;
  readonly machine: { readonly busy: number; readonly total: number };
  /** Ticks by process id, for the processes that were running (the bench's own among them). */
  readonly processes: ReadonlyMap<number, { readonly comm: string; readonly ticks: number }>;
}

/** Processes summed by command name rather than named one by one. */
const SUMMED = ['postgres', 'java'] as const;

let clockTicks: number | undefined;

/** Clock ticks per second (USER_HZ), from getconf; 100 on every usual Linux. */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const answer = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    clockTicks = Number.isFinite(answer) && answer > 0 ? answer : 100;
  }
  return clockTicks;
}

export function snapshotCpu(): CpuSnapshot {
  const processes = new Map<number, { comm: string; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      processes.set(Number(entry), parseProcStat(readFileSync(`/proc/${entry}/stat`, 'utf8')));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return {
    atMs: performance.now(),
    machine: parseMachineStat(readFileSync('/proc/stat', 'utf8')),
    processes,
  };
}

export interface CpuShare {
  readonly name: string;
  /** CPU milliseconds over the window. */
  readonly cpuMs: number;
}

export interface CpuWindow {
  readonly elapsedMs: number;
  /** The share of all cores busy over the window (1 = every core all the time). */
  readonly machineBusy: number;
  /** Named processes (apps, bench), then `postgres` and `java` summed over their processes, then `other`. */
  readonly shares: readonly CpuShare[];
}

/**
 * What each part used between two snapshots. `named` maps an app's pid to its name; the bench's
 * own process is `bench`. A process that ended inside the window is missed (its ticks are gone);
 * one that started inside it counts in full. `other` is the machine's busy time less everything named (the kernel's own work too).
 */
export function cpuBetween(
  before: CpuSnapshot,
  after: CpuSnapshot,
  named: ReadonlyMap<number, string>,
  hz: number = ticksPerSecond(),
): CpuWindow {
  const msOf = (ticks: number) => (ticks * 1000) / hz;
  const byName = new Map<string, number>();
  const add = (name: string, ms: number) => byName.set(name, (byName.get(name) ?? 0) + ms);
  for (const [pid, now] of after.processes) {
    const then = before.processes.get(pid);
    const ticks = now.ticks - (then && then.comm === now.comm ? then.ticks : 0);
    const name = pid === process.pid ? 'bench' : (named.get(pid) ?? SUMMED.find((comm) => comm === now.comm));
    if (name) add(name, msOf(ticks));
  }
  const machineBusyTicks = after.machine.busy - before.machine.busy;
  const machineTotalTicks = after.machine.total - before.machine.total;
  const accounted = [...byName.values()].reduce((sum, ms) => sum + ms, 0);
  add('other', Math.max(0, msOf(machineBusyTicks) - accounted));
  return {
    elapsedMs: after.atMs - before.atMs,
    machineBusy: machineTotalTicks > 0 ? machineBusyTicks / machineTotalTicks : 0,
    shares: [...byName].map(([name, cpuMs]) => ({ name, cpuMs })),
  };
}
