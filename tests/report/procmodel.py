"""procmodel.py: the heap of a run of several processes, rebuilt from its raw
events in Python, for check_report.py (imported from the test scripts' own
directory).  Independent of the drainer's model (cli/agg.c): it reads only
the events table, in event order.

Each process image has its own heap.  A FORK event (kind 41, span_id = the
fork's number) copies the forking image's heap, and the PROC_START (34) of
the child that names that fork (size = parent pid, span_id = the number)
takes the copy; the copy's spans count as spans created at the FORK.  A
PROC_START of a pid that already has an image is an exec: the old image
ends.  At the end of the run every image ends but the root pid's latest
(the program's heap at its end), and so does every copy no child took.  An
image that ends releases the spans it still holds.

What it yields: the figures of the image left at the end, (HeapAlloc,
requested, HeapInuse, HeapIdle, HeapReleased, HeapSys), its live small
objects weighed, and per class the objects still live there, spans created
and spans released.  When an image
ends is not in the events (the drainer drops its heap when it reaps the
process), so no peak is computed here."""
import copy
import sys
from collections import Counter

sys.dont_write_bytecode = True

PAGE = 8192


def pages(n):
    return (n + PAGE - 1) // PAGE


class Image:
    def __init__(self):
        self.ha = self.rq = self.inuse = self.sys = 0
        self.released = set()  # page addresses
        self.live = Counter()  # class -> objects
        self.spans = Counter()  # class -> spans
        self.large = {}  # span id -> bytes of the large object in it
        self.small = [0, 0, 0]  # live small objects: weigh(size) summed


def model(q, run_id, class_size, weigh):
    """q(sql, *args) -> rows; class_size: class -> object size; weigh(size):
    a tuple of three figures of a small object of that requested size, summed
    over the live ones."""
    cur, forks = {}, {}
    root = None
    created, released = Counter(), Counter()

    def end(img):
        released.update(img.spans)

    def image_of(pid):
        if pid not in cur:  # events before its PROC_START: adopted
            cur[pid] = Image()
        return cur[pid]

    for pid, kind, cls, size, addr, span in q(
            "SELECT pid, kind, class, size, addr, span_id FROM events WHERE run_id=? ORDER BY seq", run_id):
        if kind == 34:
            if root is None:
                root = pid
            if pid in cur:
                end(cur.pop(pid))  # exec
            cur[pid] = forks.pop((size, span), None) or Image() if span else Image()
            continue
        if kind == 41:
            snap = copy.deepcopy(image_of(pid))
            forks[(pid, span)] = snap
            created.update(snap.spans)
            continue
        if kind in (32, 33, 35):
            continue
        m = image_of(pid)
        if kind == 1:
            m.ha += class_size[cls]
            m.rq += size
            m.live[cls] += 1
            m.small = [a + b for a, b in zip(m.small, weigh(size))]
        elif kind == 2:
            m.rq += size
        elif kind == 3:
            b = pages(size) * PAGE
            m.ha += b
            m.rq += size
            m.live[0] += 1
            if span in m.large:  # realloc in place: the span grows or shrinks
                m.inuse += b - m.large[span]
            else:
                m.inuse += b
                m.spans[0] += 1
                created[0] += 1
            m.large[span] = b
            for p in range(pages(size)):
                m.released.discard(addr + p * PAGE)
        elif kind == 4:
            if cls:
                m.ha -= class_size[cls]
                m.small = [a - b for a, b in zip(m.small, weigh(size))]
            else:
                m.ha -= pages(size) * PAGE
            m.rq -= size
            m.live[cls] -= 1
        elif kind == 5:
            m.ha += 16
            m.live[2] += 1
        elif kind == 12:
            m.rq -= size
        elif kind == 13:
            m.ha -= 16
            m.live[2] -= 1
        elif kind == 8:
            m.inuse += size * PAGE
            m.spans[cls] += 1
            created[cls] += 1
            for p in range(size):
                m.released.discard(addr + p * PAGE)
        elif kind == 9:
            m.inuse -= size * PAGE
            m.spans[cls] -= 1
            released[cls] += 1
            m.large.pop(span, None)
        elif kind == 10:
            m.sys += size * PAGE
            m.released.update(addr + p * PAGE for p in range(size))
        elif kind == 11:
            m.released.update(addr + p * PAGE for p in range(size))
    last = cur.pop(root, None) or Image()
    for img in list(cur.values()) + list(forks.values()):
        end(img)
    fig = (last.ha, last.rq, last.inuse, last.sys - last.inuse, len(last.released) * PAGE, last.sys)
    return root, fig, last.small, last.live, created, released
