"""figcheck.py: what the report tests share (imported from the test
scripts' own directory): figure checks collected so that every failure is
printed, not only the first, and percentages rounded as the report rounds
them."""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree


class Checks:
    """check(name, got, want): equal, or for floats within tol (relative
    1e-9 on top).  either: a float on either side compares with the
    tolerance (else only a float wanted).  got_label and want_label name the
    two sides in failure lines."""

    def __init__(self, got_label, want_label, tol=0.0051, either=True):
        self.failures = []
        self.got_label, self.want_label = got_label, want_label
        self.tol, self.either = tol, either

    def __call__(self, name, got, want):
        ok = got == want
        if isinstance(want, float) or (self.either and isinstance(got, float)):
            ok = got is not None and want is not None and abs(got - want) <= self.tol + 1e-9 * abs(want)
        if not ok:
            self.failures.append(f"{name}: {self.got_label} {got!r}, {self.want_label} {want!r}")

    def finish(self, what):
        """Print the failures and a summary line; exit 1 if any."""
        for f in self.failures:
            print("FAIL:", f)
        print(f"{'FAIL' if self.failures else 'ok'}: {len(self.failures)} {what}")
        sys.exit(1 if self.failures else 0)


def pct(part, whole):
    return None if not whole else round(100.0 * part / whole, 2)
