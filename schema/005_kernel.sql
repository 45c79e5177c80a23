-- 005_kernel.sql: the kernel's view of a run (eBPF, `run --bpf`): RSS and
-- user page faults of each process over time, and the memory-mapping system
-- calls the processes made; and runs modelled from uprobes (`attach`).
-- t_ns is on heap_timeline's clock (ns since the run started).
-- Numbered 005: main holds 002_sites, 003_packed_events and
-- 004_request_sizes, and migrations are numbered without gaps.

-- Whether the run has a kernel view, and why not.
CREATE TABLE kernel_view (
  run_id INTEGER PRIMARY KEY,
  state  TEXT NOT NULL,             -- 'on', 'off' (--bpf=off), 'unavailable' (--bpf=auto could not load it)
  detail TEXT,                      -- why it is unavailable
  lost   INTEGER NOT NULL DEFAULT 0 -- mm_call / exit records the kernel's ring buffer had no room for
);

CREATE TABLE kernel_sample (
  run_id      INTEGER NOT NULL,
  pid         INTEGER NOT NULL,
  t_ns        INTEGER NOT NULL,
  rss_bytes   INTEGER,              -- resident: file + anon + shmem pages; NULL if unknown
  page_faults INTEGER NOT NULL,     -- user page faults of the process so far
  PRIMARY KEY (run_id, pid, t_ns)
) WITHOUT ROWID;

CREATE TABLE mm_call (
  run_id INTEGER NOT NULL,
  t_ns   INTEGER NOT NULL,          -- when the call returned
  pid    INTEGER NOT NULL,
  tid    INTEGER NOT NULL,
  call   TEXT NOT NULL CHECK (call IN ('mmap','munmap','mprotect','madvise','brk','mremap')),
  addr   INTEGER NOT NULL,          -- first argument (mmap: the hint; brk: the requested break)
  len    INTEGER,                   -- second argument (mremap: old length; brk: new - old break)
  arg    INTEGER,                   -- mmap/mprotect: prot; madvise: advice; mremap: new length
  ret    INTEGER NOT NULL           -- the result: an address, 0, or -errno
);

-- Runs whose heap figures are modelled, not measured: `attach` recorded the
-- malloc-family requests of a process on its own allocator (uprobes) and
-- applied Go's size classes to them.  Only class_stat, the run's peak
-- HeapAlloc/requested and the events are filled; absent for `run`.
CREATE TABLE modelled_run (
  run_id INTEGER PRIMARY KEY,
  pid    INTEGER NOT NULL,
  source TEXT NOT NULL              -- e.g. 'uprobes on /proc/PID/root/usr/lib/x86_64-linux-gnu/libc.so.6'
);

CREATE VIEW kernel_timeline AS
  SELECT run_id, t_ns, pid, rss_bytes, page_faults FROM kernel_sample;

CREATE VIEW mm_calls AS
  SELECT run_id, t_ns, pid, tid, call, addr, len, arg, ret FROM mm_call;
