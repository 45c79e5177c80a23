"""forks.py: a Python program for check_report.py that forks: a child that
frees half of its parent's objects and makes its own, a child that execs,
and a subprocess.  Run by /usr/bin/python3 -S with PYTHONMALLOC=malloc."""
import os, subprocess
keep = [str(i) * (i % 50) for i in range(20000)]
print(subprocess.run(['/bin/ls', '/'], capture_output=True).returncode)
pid = os.fork()
if pid == 0:
    more = [x + 'y' for x in keep[:5000]]
    del keep[:10000]
    os._exit(0)
os.waitpid(pid, 0)
pid = os.fork()
if pid == 0:
    os.execv('/bin/true', ['true'])
os.waitpid(pid, 0)
print(len(keep))
