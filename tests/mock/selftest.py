#!/usr/bin/env python3
"""The frame of the mocks' self-tests (test_<provider>_mock.py): a suite of test functions,
check(), and a runner that resets the in-process mock before each test, prints one TAP-like
line per test (the traceback and the mock's last rejection on failure) and, last,
`# counts: N passed, M failed`, which tests/run-all.sh adds up."""

import sys
import time
import traceback


def check(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


class Suite:
    def __init__(self):
        self.tests = []

    def test(self, fn):
        """Decorator: a test of the suite, run in the order of definition."""
        self.tests.append(fn)
        return fn

    def run(self, mock, reset, last_rejection=None, only=None):
        """Run every test (or those named in only, default sys.argv[1:]) against mock, which
        is stopped at the end; returns the exit status."""
        passed = failed = 0
        only = sys.argv[1:] if only is None else only
        try:
            for fn in self.tests:
                if only and fn.__name__ not in only:
                    continue
                reset()
                t0 = time.time()
                try:
                    fn()
                    passed += 1
                    print("ok - %s (%.2fs)" % (fn.__name__, time.time() - t0))
                except Exception:
                    failed += 1
                    print("not ok - %s" % fn.__name__)
                    for line in traceback.format_exc().rstrip().split("\n"):
                        print("#   " + line)
                    if last_rejection is not None:
                        try:
                            print("#   last_rejection: %s" % last_rejection())
                        except Exception:   # noqa: BLE001
                            pass
                sys.stdout.flush()
        finally:
            mock.stop()
        print("# counts: %d passed, %d failed" % (passed, failed))
        return 0 if failed == 0 and passed > 0 else 1
