"""TAP output for every Python test, the same behaviour as tap.sh:

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
    import tap
    tap.ok("replay exits 0", rc == 0, err)   # detail printed as comments on failure
    tap.comment("seed 42")
    sys.exit(tap.done())                     # "1..N"; the failure count

Each result is printed as it happens, so a test that hangs or crashes still
shows how far it got; the plan is counted and printed by done() at the end
(TAP allows a trailing plan); a failure never stops the test.
"""
import sys

DETAIL_LINES = 40  # enough to see why, short enough to read in a CI log

_count = 0
_failures = 0


def comment(text):
    """Prints each line of text as a TAP comment."""
    for line in str(text).splitlines() or [""]:
        print("# " + line)
    sys.stdout.flush()


def ok(name, cond, detail=""):
    """One test: ok when cond is true, else not ok and the first lines of
    detail as comments. Returns cond as a bool, for tests that go on only
    when it held."""
    global _count, _failures
    _count += 1
    passed = bool(cond)
    print("%s %d - %s" % ("ok" if passed else "not ok", _count, name))
    if not passed:
        _failures += 1
        if detail != "":
            comment("\n".join(str(detail).splitlines()[:DETAIL_LINES]))
    sys.stdout.flush()
    return passed


def done():
    """Prints the plan; returns the exit status: the failure count, held
    under 256 (where it would wrap to a pass)."""
    print("1..%d" % _count)
    sys.stdout.flush()
    return min(_failures, 255)
