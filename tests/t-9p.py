#!/usr/bin/env python3
"""9P2000 tests for mailfs, through an independent client (tests/p9client.py).

usage: python3 tests/t-9p.py MAILFS_BINARY

The sections are modules of their own: t9p_conformance.py (1),
t9p_malformed.py (2), t9p_mail.py (3, 4), t9p_trees.py (5, 6); what they
share is t9p_common.py.

Starts "NAMESPACE=<tmp> MAILFS -f -s mailtest <mailbox>" itself and talks
9P2000 to the socket <tmp>/mailtest.  Output is TAP; the plan line comes
last; the exit status is non-zero when any test failed.  TODO tests
(expected failures) are "not ok N - ... # TODO reason" and do not count.

Sections: 1 conformance per message, 2 malformed input, 3 acme Mail's
conversation, 4 Topenfd, 5 the golden trees over 9P, 6 concurrency and
memory.  Expectations come from the plan9port 9P manual pages and the
mailfs specification (upasfs.md sections 1, 2, 4.7, 5).
"""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from t9p_common import Tap, Server, SAMPLE, NESTED, WATCHDOG, need  # noqa: E402
from t9p_conformance import sec_conformance  # noqa: E402
from t9p_malformed import sec_malformed  # noqa: E402
from t9p_mail import sec_mail, sec_openfd  # noqa: E402
from t9p_trees import sec_trees, sec_concurrency  # noqa: E402


# ================================================================ main

class Watchdog(Exception):
    pass


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: python3 tests/t-9p.py MAILFS_BINARY")
    binary = os.path.abspath(sys.argv[1])
    t = Tap()
    servers = []

    def on_alarm(sig, frame):
        raise Watchdog("watchdog: the run took more than %d s" % WATCHDOG)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(WATCHDOG)
    try:
        S = None

        def start_sample():
            servers.append(Server(binary, SAMPLE))
            t.server = servers[-1]
            mode = os.stat(servers[-1].sock).st_mode & 0o777
            need(mode == 0o600, "socket mode %o, want 600" % mode)
            return servers[-1].sock
        if t.run("server starts on sample.mbox and creates its socket with mode 0600", start_sample) or servers:
            S = servers[-1]
        if S:
            t.server = S
            print("# section 1: conformance", flush=True)
            sec_conformance(t, S)
            print("# section 2: malformed input", flush=True)
            sec_malformed(t, S)
            print("# section 3: acme Mail's conversation", flush=True)
            sec_mail(t, S, "sample", 5)
            print("# section 4: Topenfd", flush=True)
            sec_openfd(t, S)

            def ends():
                rc, killed = S.stop()
                need(not killed, "no exit within 5 s of SIGTERM")
                need(rc is not None and rc <= 0, "exit status %s after SIGTERM\n%s" % (rc, S.lastlog))
                return "exit: %s" % S.status()
            t.server = None
            t.run("sample server survived sections 1-4 and exits on SIGTERM", ends)
        try:
            N = Server(binary, NESTED)
            servers.append(N)
            t.server = N
            sec_mail(t, N, "nested", 5)
            t.server = None

            def nends():
                rc, killed = N.stop()
                need(not killed and rc is not None and rc <= 0, "exit status %s, killed %s\n%s" % (rc, killed, N.lastlog))
            t.run("nested server exits on SIGTERM", nends)
        except Exception as e:
            t.ok(False, "nested: server start", "%s: %s" % (type(e).__name__, e))
        t.server = None
        print("# section 5: trees over 9P", flush=True)
        sec_trees(t, binary)
        print("# section 6: concurrency", flush=True)
        sec_concurrency(t, binary)
    except Watchdog as e:
        print("Bail out! %s" % e, flush=True)
        t.failed.append("watchdog")
    except KeyboardInterrupt:
        print("Bail out! interrupted", flush=True)
        t.failed.append("interrupted")
    finally:
        signal.alarm(0)
        for s in servers:
            try:
                s.stop()
            except Exception:
                pass
    sys.exit(t.done())


if __name__ == "__main__":
    main()
