#!/usr/bin/env python3
"""Starts a command the way systemd socket activation does, and restarts it the way `systemctl restart` does.

usage: activate.py LOGDIR SOCKETS -- COMMAND...
  SOCKETS  comma-separated tcp:HOST:PORT / udp:HOST:PORT, bound here (like a .socket unit) and kept open
           across restarts, so connections wait in the backlog while no process accepts.
Each generation G runs with the sockets as fds 3.., LISTEN_FDS, LISTEN_PID (its own pid: fork, then exec),
LISTEN_FDNAMES; its stdout/stderr go to LOGDIR/G.out and LOGDIR/G.err. Commands on stdin, one per line:
  restart  SIGTERM the running generation, wait for its exit, start the next one
  stop     SIGTERM it, wait, exit
  wait     wait for it to exit by itself, exit
Events on stdout: "sockets P1 P2 ...", "started G PID", "exited G STATUS".
"""
import os
import signal
import socket
import sys


def bind(spec):
    proto, rest = spec.split(":", 1)
    host, port = rest.rsplit(":", 1)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host.strip("[]"), int(port)))
    if proto == "tcp":
        s.listen(512)
    return s


def start(gen, logdir, socks, cmd):
    pid = os.fork()
    if pid == 0:
        out = os.open(os.path.join(logdir, "%d.out" % gen), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        err = os.open(os.path.join(logdir, "%d.err" % gen), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, 1)
        os.dup2(err, 2)
        fds = [s.fileno() for s in socks]
        tmp = [os.dup(fd) for fd in fds]  # out of the way of 3.. first
        for i, fd in enumerate(tmp):
            os.dup2(fd, 3 + i, inheritable=True)
        os.closerange(3 + len(socks), 1024)
        os.environ["LISTEN_FDS"] = str(len(socks))
        os.environ["LISTEN_PID"] = str(os.getpid())
        os.environ["LISTEN_FDNAMES"] = ":".join("s%d" % i for i in range(len(socks)))
        os.execvp(cmd[0], cmd)
    print("started %d %d" % (gen, pid), flush=True)
    return pid


def wait(gen, pid):
    _, status = os.waitpid(pid, 0)
    print("exited %d %d" % (gen, os.waitstatus_to_exitcode(status)), flush=True)


def main():
    logdir, specs = sys.argv[1], sys.argv[2]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    socks = [bind(s) for s in specs.split(",")]
    print("sockets " + " ".join(str(s.getsockname()[1]) for s in socks), flush=True)
    gen = 1
    pid = start(gen, logdir, socks, cmd)
    for line in sys.stdin:
        word = line.strip()
        if word == "wait":
            wait(gen, pid)
            return
        if word in ("restart", "stop"):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            wait(gen, pid)
            if word == "stop":
                return
            gen += 1
            pid = start(gen, logdir, socks, cmd)
    os.kill(pid, signal.SIGKILL)  # the test went away
    wait(gen, pid)


main()
