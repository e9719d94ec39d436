import { cpuBetween, parseMachineStat, parseProcStat, type CpuSnapshot } from './cpu-usage';

const statLine = (pid: number, comm: string, utime: number, stime: number) =>
  `${pid} (${comm}) S 1 ${pid} ${pid} 0 -1 4194560 1000 0 0 0 ${utime} ${stime} 0 0 20 0 11 0 500 1000000 5000`;

describe('parseProcStat', () => {
  it('adds utime and stime (fields 14 and 15)', () => {
    expect(parseProcStat(statLine(42, 'node', 1234, 56))).toEqual({ comm: 'node', ticks: 1290 });
  });

  it('reads a command name holding spaces and parentheses up to the last parenthesis', () => {
    expect(parseProcStat(statLine(7, 'a (b) c', 10, 5))).toEqual({ comm: 'a (b) c', ticks: 15 });
  });

  it('refuses a line that is not a stat line', () => {
    expect(() => parseProcStat('no parentheses here')).toThrow('not a /proc/<pid>/stat line');
    expect(() => parseProcStat('1 (x) S 1')).toThrow('no utime/stime');
  });
});

describe('parseMachineStat', () => {
  it('counts user, nice, system, irq, softirq and steal as busy, idle and iowait as not', () => {
    const text = 'cpu  100 5 50 1000 20 3 7 2 0 0\ncpu0 50 2 25 500 10 1 3 1 0 0\n';
    expect(parseMachineStat(text)).toEqual({ busy: 167, total: 1187 });
  });

  it('refuses text whose first line is not the cpu total', () => {
    expect(() => parseMachineStat('cpu0 1 2 3 4\n')).toThrow('not the cpu line');
  });
});

describe('cpuBetween', () => {
  const snapshot = (
    atMs: number,
    machine: { busy: number; total: number },
    processes: [number, string, number][],
  ): CpuSnapshot => ({
    atMs,
    machine,
    processes: new Map(processes.map(([pid, comm, ticks]) => [pid, { comm, ticks }])),
  });

  it('gives each named process, postgres and java summed, the bench and the rest of the busy time', () => {
    // Two cores for 1 s at 100 ticks a second: 200 ticks in all, 150 of them busy.
    const before = snapshot(0, { busy: 1000, total: 5000 }, [
      [10, 'node', 100],
      [20, 'postgres', 50],
      [21, 'postgres', 10],
      [30, 'java', 500],
      [40, 'bash', 1],
      [process.pid, 'node', 200],
    ]);
    const after = snapshot(1000, { busy: 1150, total: 5200 }, [
      [10, 'node', 140], // the app: 40 ticks
      [20, 'postgres', 70], // 20
      [22, 'postgres', 5], // started inside the window: counts in full
      [30, 'java', 530], // 30
      [40, 'bash', 2],
      [process.pid, 'node', 225], // the bench (this process): 25 ticks
    ]);
    const window = cpuBetween(before, after, new Map([[10, 'projection']]), 100);
    expect(window.elapsedMs).toBe(1000);
    expect(window.machineBusy).toBeCloseTo(0.75);
    expect(Object.fromEntries(window.shares.map(({ name, cpuMs }) => [name, cpuMs]))).toEqual({
      projection: 400,
      postgres: 250,
      java: 300,
      bench: 250,
      other: 300, // 1,500 ms busy less 1,200 named
    });
  });

  it('does not count a reused process id as the old process', () => {
    const before = snapshot(0, { busy: 0, total: 100 }, [[20, 'postgres', 900]]);
    const after = snapshot(500, { busy: 50, total: 200 }, [[20, 'java', 30]]);
    const window = cpuBetween(before, after, new Map(), 100);
    expect(window.shares.find((share) => share.name === 'java')?.cpuMs).toBe(300);
    expect(window.shares.find((share) => share.name === 'postgres')).toBeUndefined();
  });
});
