"""What the IMAP tests share: a throw-away Dovecot (tests/dovecot.sh),
a home with a key file for mailfs, and the environment to run it in."""
import os, subprocess, sys

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def dovecot(d, *variant):
    """start a Dovecot in d; its IMAP_* assignments as a dict, or bail out"""
    out = subprocess.run([os.path.join(top, "tests/dovecot.sh"), "start", d] + list(variant),
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit("Bail out! dovecot did not start: " + out.stdout + out.stderr)
    return dict(l.split("=", 1) for l in out.stdout.splitlines() if "=" in l)


def stop(d):
    subprocess.run([os.path.join(top, "tests/dovecot.sh"), "stop", d], capture_output=True)


def home(tmp, key="key proto=pass service=imap server=127.0.0.1 user=alice !password=secret"):
    """tmp/home with the key file (mode 0600): its path, and an environment with HOME and the cache there"""
    h = os.path.join(tmp, "home")
    os.makedirs(h, exist_ok=True)
    keys = os.path.join(h, "keys")
    with open(keys, "w") as f:
        f.write(key + "\n")
    os.chmod(keys, 0o600)
    return keys, dict(os.environ, HOME=h, XDG_CACHE_HOME=os.path.join(h, "cache"), TZ="UTC")
