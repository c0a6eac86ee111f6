#!/usr/bin/env python3
"""Every program the project's scripts call comes from a Debian package
that the project's own files install (tools/deps.build, tools/deps.test)
or from Debian 12's minbase (its Essential and Priority: required
packages): a fresh machine has nothing else.

The scripts are read, not run: shell commands in command position (after
a separator, a keyword or a wrapper such as timeout), single-quoted code
that check and eval run, and in Python the first word of an argument
list.  A name is a program if it resolves to a file in the system's bin
directories; dpkg says whose it is.  A program that a script first looks
for with "command -v" or shutil.which is optional and not counted.
usage: t-progs.py"""
import os, re, shutil, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap as tap_

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSPATH = "/usr/sbin:/usr/bin:/sbin:/bin"
KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until",
            "for", "in", "case", "esac", "function", "select", "!", "{", "}",
            "[[", "]]", "time", "coproc"}
BUILTINS = {"echo", "printf", "test", "[", "true", "false", "cd", "exit", "return",
            "set", "unset", "export", "local", "read", "shift", "wait", "trap",
            "eval", "exec", "source", ".", "type", "kill", "pwd", "umask", "ulimit",
            "break", "continue", "declare", "readonly", "let", "mapfile", "jobs",
            "disown", "getopts", "hash", "alias", "command", "builtin", ":"}
# wrappers whose arguments start another command: options they take a value for
WRAPPERS = {"timeout": {"-s", "-k", "--signal", "--kill-after"}, "env": {"-u"},
            "nice": {"-n"}, "nohup": set(), "setsid": set(), "stdbuf": set(),
            "xargs": {"-n", "-I", "-P", "-d", "-L", "-s"}, "sudo": {"-u", "-g"},
            "setpriv": set(), "exec": set(), "time": set(), "!": set()}
# commands whose quoted arguments are programs in languages of their own
NOTSHELL = {"awk", "sed", "grep", "perl", "printf", "echo", "find", "cut", "tr", "jq", "notok", "diag"}
SEPS = {";", "&", "|", "&&", "||", "(", ")", "\n", ";;", "{", "}", "$(", "`", "|&"}


def lex(text):
    """Shell words and separators.  Yields (kind, text): 'w' a word,
    's' a separator, 'q' the body of a single-quoted string."""
    i, n, word = 0, len(text), ""
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            word += text[i + 1] if text[i + 1] != "\n" else ""
            i += 2
        elif c == "'":
            j = text.find("'", i + 1)
            j = n if j < 0 else j
            yield ("q", text[i + 1:j])
            word += "'"
            i = j + 1
        elif c == '"':
            j, depth = i + 1, 0
            while j < n and (text[j] != '"' or depth):
                if text[j] == "\\":
                    j += 1
                elif text.startswith("$(", j):
                    depth += 1
                elif text[j] == ")" and depth:
                    depth -= 1
                j += 1
            for m in re.finditer(r"\$\(([^()]*)\)", text[i + 1:j]):
                yield ("q", m.group(1))	# a command substitution inside quotes
            word += '"'
            i = j + 1
        elif c == "#" and not word:
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c in " \t":
            if word:
                yield ("w", word)
                word = ""
            i += 1
        elif c in ";&|()\n`{}" or text.startswith("$(", i):
            if word and not (c in "{}" and word.startswith("$")):
                yield ("w", word)
                word = ""
            for sep in ("$(", "&&", "||", ";;", "|&"):
                if text.startswith(sep, i):
                    yield ("s", sep)
                    i += len(sep)
                    break
            else:
                if c in "{}" and word:
                    word += c
                else:
                    yield ("s", c)
                i += 1
        else:
            word += c
            i += 1
    if word:
        yield ("w", word)


def heredocs_out(text):
    """The text without here-document bodies (another language's code)."""
    out, end = [], None
    for line in text.split("\n"):
        if end is not None:
            if line.strip() == end:
                end = None
            continue
        out.append(line)
        m = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", line)
        if m and not line.lstrip().startswith("#"):
            end = m.group(1)
    return "\n".join(out)


def shell_calls(text, depth=0):
    """The names a shell text runs as commands, and those it only looks for."""
    calls, looked = set(), set()
    start, wrapper, skipval, after_cmd, cur = True, None, False, None, None
    for kind, tok in lex(heredocs_out(text)):
        if kind == "q":	# code for the command it is an argument of
            if cur in ("python3", "python"):
                c, l = python_calls(tok)
            elif cur not in NOTSHELL and depth < 3 and re.search(r"[\s;|]", tok):
                c, l = shell_calls(tok, depth + 1)
            else:
                continue
            calls |= c
            looked |= l
            continue
        if kind == "s":
            start, wrapper, after_cmd, cur = tok in SEPS, None, None, None
            continue
        if after_cmd == "command -v":
            looked.add(tok)
            after_cmd = None
            continue
        if after_cmd == "command" and tok == "-v":
            after_cmd = "command -v"
            continue
        if not start:
            continue
        if skipval:
            skipval = False
            continue
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", tok):
            continue	# an assignment before the command
        if wrapper is not None:
            if tok.startswith("-"):
                skipval = tok in WRAPPERS[wrapper]
                continue
            if wrapper == "timeout" and re.match(r"^[0-9.]+[smhd]?$", tok):
                continue
        if tok in KEYWORDS and tok not in WRAPPERS:
            continue
        if tok == "command":
            after_cmd, start = "command", False
            continue
        calls.add(tok)
        cur = tok
        if tok in WRAPPERS:
            wrapper = tok
        else:
            start, wrapper = False, None
    return calls, looked


def python_calls(text):
    """First words of argument lists, and shell strings handed to a shell."""
    calls, looked = set(), set()
    for m in re.finditer(r"\[\s*(['\"])([A-Za-z0-9_.+-]+)\1\s*[,\]]", text):
        calls.add(m.group(2))
    for m in re.finditer(r"shutil\.which\(\s*(['\"])([A-Za-z0-9_.+-]+)\1", text):
        looked.add(m.group(2))
    for m in re.finditer(r"os\.system\(\s*(['\"])(.*?)\1", text):
        c, _ = shell_calls(m.group(2))
        calls |= c
    return calls, looked


def scripts():
    """The project's scripts, each with its language."""
    for d in ("tests", "tests/bench", "tools", "acme", ".ci"):
        for name in sorted(os.listdir(os.path.join(top, d))):
            p = os.path.join(top, d, name)
            if not os.path.isfile(p) or p == os.path.abspath(__file__):
                continue	# this file's strings are its test data
            with open(p, "rb") as f:
                head = f.read(200)
            first = head.split(b"\n", 1)[0]
            if name.endswith(".py") or (first.startswith(b"#!") and b"python" in first):
                yield p, "python"
            elif name.endswith(".sh") or (first.startswith(b"#!") and re.search(rb"\b(ba)?sh\b", first)):
                yield p, "shell"
    for name in ("Makefile", "mkfile"):	# recipes are shell
        yield os.path.join(top, name), "recipes"


def package_of(path):
    real = os.path.realpath(path)
    for cand in dict.fromkeys([path, real] + [d + "/" + os.path.basename(real)
                                              for d in ("/usr/bin", "/bin", "/usr/sbin", "/sbin")]):
        r = subprocess.run(["dpkg-query", "-S", cand], capture_output=True, text=True)
        if r.returncode == 0:
            pkg = r.stdout.split(":")[0].split(",")[0].strip()
            return pkg
    return None


def minbase(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Priority} ${Essential}", pkg],
                       capture_output=True, text=True)
    return r.returncode == 0 and (r.stdout.startswith("required") or r.stdout.endswith("yes"))


def listed():
    """The packages of tools/deps.*, and what they depend on: all of it
    is on a machine once they are installed."""
    pkgs = set()
    for l in ("build", "test"):
        with open(os.path.join(top, "tools", "deps." + l)) as f:
            pkgs |= {w for line in f for w in line.split("#")[0].split()}
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Pre-Depends}, ${Depends}\t${Provides}\n"],
                       capture_output=True, text=True)
    deps, provider = {}, {}
    for line in r.stdout.splitlines():
        name, dep, prov = (line.split("\t") + ["", ""])[:3]
        deps[name] = [alt.strip().split(" ")[0].split(":")[0]
                      for d in dep.split(",") if d.strip() for alt in d.split("|")]
        for p in prov.split(","):
            if p.strip():
                provider.setdefault(p.strip().split(" ")[0], []).append(name)
    todo = list(pkgs)
    while todo:
        p = todo.pop()
        for d in deps.get(p, []) + [q for x in deps.get(p, []) for q in provider.get(x, [])]:
            if d not in pkgs and d in deps:
                pkgs.add(d)
                todo.append(d)
    return pkgs


def functions(text):
    return set(re.findall(r"^\s*(?:function\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*\(\)", text, re.M))


def main():
    tap = tap_.Tap()
    ours = listed()
    defined = set()
    with open(os.path.join(top, "tests", "tap.sh")) as f:
        defined |= functions(f.read())
    uses = {}	# program -> scripts
    for path, lang in scripts():
        with open(path, errors="replace") as f:
            text = f.read()
        if lang == "recipes":
            text = "\n".join(l[1:].lstrip("@-") for l in text.split("\n") if l.startswith("\t"))
            text = re.sub(r"\$\(shell ([^)]*)\)", r"$(\1)", text)
        calls, looked = python_calls(text) if lang == "python" else shell_calls(text)
        skip = looked | functions(text) | defined | BUILTINS
        for c in calls - skip:
            if "/" in c or "$" in c or not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$", c):
                continue
            uses.setdefault(c, set()).add(os.path.relpath(path, top))
    found = {c: shutil.which(c, path=SYSPATH) for c in uses}
    progs = sorted(c for c in found if found[c])
    tap.check("the scripts' commands were read: %d programs, among them sh tools" % len(progs),
              len(progs) > 20 and "timeout" in progs and "python3" in progs, progs)
    bad = []
    for c in progs:
        pkg = package_of(found[c])
        if pkg is None:
            bad.append("%s (%s): no Debian package owns it; used in %s" % (c, found[c], ", ".join(sorted(uses[c]))))
        elif pkg not in ours and not minbase(pkg):
            bad.append("%s: from %s, which is neither in minbase nor in tools/deps.*; used in %s"
                       % (c, pkg, ", ".join(sorted(uses[c]))))
    tap.check("every program called comes from minbase or tools/deps.build|test", not bad, "\n".join(bad))
    # the reader must see what it checks: a known call in each language
    c, _ = shell_calls("x=$(pgrep -f y | head -1); timeout 5 setpriv --reuid=1 ss -l && check 'd' 'xxd -p f'")
    p, _ = python_calls('subprocess.run(["pkill", "-f", x]); os.system("nc -z h 1")')
    tap.check("calls in command position, under wrappers, in quotes and in Python are read",
              {"pgrep", "head", "timeout", "setpriv", "ss", "xxd"} <= c and {"pkill", "nc"} <= p, (c, p))
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
