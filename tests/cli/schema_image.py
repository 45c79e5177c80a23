#!/usr/bin/python3
"""schema_image.py CLI SCHEMA_DIR: a new database (written from the image
mkdbimage made at build time) must be the database the migrations of
schema/ make: the same objects with the same SQL, the same version and mark,
and the same rows in every table the migrations fill."""
import glob
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

cli, schema_dir = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp()
try:
    new = os.path.join(tmp, "new.db")
    ref = os.path.join(tmp, "ref.db")

    # the reference: every migration in order, in one transaction, as
    # cli_schema_apply does from version 0
    files = sorted(glob.glob(os.path.join(schema_dir, "[0-9][0-9][0-9]_*.sql")))
    script = "BEGIN IMMEDIATE;\n"
    for f in files:
        with open(f) as fh:
            script += fh.read() + "\n;\n"
    script += ("PRAGMA user_version=%d;\n" % len(files) +
               "INSERT OR REPLACE INTO goalloc_meta VALUES('format','goalloc-trace');\nCOMMIT;\n")
    db = sqlite3.connect(ref)
    db.executescript(script)
    db.close()

    # the CLI's new file: a run of a program that allocates nothing of note
    r = subprocess.run([cli, "run", "-q", "--bpf=off", "--stacks=off", "-o", new, "--", "true"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("run failed (%d): %s" % (r.returncode, r.stderr))

    def objects(con):
        return sorted(con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall(),
                      key=lambda o: (o[0], o[1]))

    a, b = sqlite3.connect(new), sqlite3.connect(ref)
    oa, ob = objects(a), objects(b)
    if oa != ob:
        only_new = [o[:2] for o in oa if o not in ob]
        only_ref = [o[:2] for o in ob if o not in oa]
        sys.exit("schema differs from the migrations': only in the new file %s, only in theirs %s"
                 % (only_new, only_ref))
    va = a.execute("PRAGMA user_version").fetchone()[0]
    vb = b.execute("PRAGMA user_version").fetchone()[0]
    if va != vb or va != len(files):
        sys.exit("user_version %d, migrations make %d (%d files)" % (va, vb, len(files)))
    filled = 0
    for (name,) in b.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"):
        rows_ref = sorted(b.execute('SELECT * FROM "%s"' % name).fetchall(), key=repr)
        if not rows_ref:
            continue  # filled by runs, not by the migrations
        filled += 1
        rows_new = sorted(a.execute('SELECT * FROM "%s"' % name).fetchall(), key=repr)
        if rows_new != rows_ref:
            sys.exit("table %s: %d rows in the new file, %d from the migrations"
                     % (name, len(rows_new), len(rows_ref)))
    if filled == 0:
        sys.exit("the migrations filled no table: the comparison of rows checked nothing")
    print("ok: %d objects, schema %d, %d tables with rows from the migrations" % (len(oa), va, filled))
finally:
    shutil.rmtree(tmp)
