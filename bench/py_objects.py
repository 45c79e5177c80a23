# py_objects.py: the Python workload of the benchmark driver (run.py).  Run
# by Debian's /usr/bin/python3 with PYTHONMALLOC=malloc and PYTHONHASHSEED=0,
# so every object Python creates comes from the allocator under test.  It
# builds and throws away dicts, lists, tuples and strings of many sizes (a
# record-processing job: parse, group, sort, serialise) and prints a CRC of
# what it produced, identical under every correct allocator.
#
# Usage: python3 py_objects.py [rounds]
import json
import random
import sys
import zlib

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
         "iota", "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi", "rho",
         "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega"]


def make_records(rng, n):
    recs = []
    for i in range(n):
        name = "-".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))
        recs.append({
            "id": i,
            "name": name,
            "group": rng.choice(WORDS),
            "score": rng.random() * 1000.0,
            "tags": [rng.choice(WORDS) * rng.randint(1, 3) for _ in range(rng.randint(0, 8))],
            "blob": "x" * rng.randint(0, 2000),
        })
    return recs


def process(recs):
    groups = {}
    for r in recs:
        groups.setdefault(r["group"], []).append(r)
    out = []
    for g in sorted(groups):
        rows = sorted(groups[g], key=lambda r: (-r["score"], r["id"]))
        names = {}
        for r in rows:
            for part in r["name"].split("-"):
                names[part] = names.get(part, 0) + 1
        top = [(r["id"], r["name"].upper(), len(r["blob"])) for r in rows[:20]]
        out.append({"group": g, "n": len(rows), "top": top,
                    "names": sorted(names.items()),
                    "tags": sorted({t for r in rows for t in r["tags"]})})
    return json.dumps(out, sort_keys=True)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    rng = random.Random(20240601)
    crc = 0
    keep = []  # a slowly changing long-lived set, as a cache would hold
    for rnd in range(rounds):
        recs = make_records(rng, 12000)
        text = process(recs)
        crc = zlib.crc32(text.encode(), crc)
        keep.append(recs[::7])
        if len(keep) > 4:
            keep.pop(0)
        words = text.replace('"', " ").split()
        index = {}
        for pos, w in enumerate(words):
            index.setdefault(w, []).append(pos)
        crc = zlib.crc32(repr(sorted((k, len(v)) for k, v in index.items())).encode(), crc)
    print("py_objects: ok rounds=%d crc=%08x" % (rounds, crc))


if __name__ == "__main__":
    main()
