"""What the Python tests of mailfs share: TAP checks, and a mailfs
serving 9P in the foreground, started and stopped."""
import os, signal, subprocess, time


class Tap:
    def __init__(self):
        self.n = self.fails = 0

    def check(self, what, cond, detail=""):
        self.n += 1
        print(("ok %d - %s" if cond else "not ok %d - %s") % (self.n, what))
        if not cond:
            self.fails += 1
            for line in str(detail).splitlines():
                print("#   " + line)

    def done(self):
        print("1..%d" % self.n)
        return 1 if self.fails else 0


def post(mailfs, args, ns, name, env):
    """Start mailfs -f -s name args...; return the process once the service is posted."""
    p = subprocess.Popen([mailfs, "-f", "-s", name] + args, env=env, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(os.path.join(ns, name)):
            break
        time.sleep(0.1)
    return p


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
