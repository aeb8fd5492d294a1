"""
What every Text2GPT1 file shares, and nothing else: the error a user can fix, the atomic file writer and
the folder lock, and how every script ends (Ctrl-C and SIGTERM included). It imports nothing of ours, so
any file can import it.
"""
import contextlib
import errno
import os
import re
import signal
import sys
import tempfile
import threading


class UserError(Exception):
    """A problem the user can fix; the message is one sentence naming the thing and the fix."""


_UMASK = os.umask(0o022)
os.umask(_UMASK)  # reading the umask means setting it; put it back at once


def quoted(path):
    """path as a shell argument a user can paste: in double quotes when it has a space (bash, zsh, cmd and
    PowerShell all read those)."""
    return f'"{path}"' if any(c.isspace() for c in path) else path


def write_atomic(path, data):
    """Write str, bytes, or whatever data(file) writes, to path via a temp file in the same folder and a
    rename, so a crash never leaves half a file. An OSError (a full disk) names path."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    except OSError as e:
        e.filename = e.filename or path
        raise
    try:
        # mkstemp makes the file 0600; give it the mode open() would, so every output file has the same
        os.chmod(tmp, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        if isinstance(e, OSError) and not e.filename:
            e.filename = path
        raise


def without_credentials(text):
    """text with the user:password@ of every URL in it removed (http://user:key@host -> http://host), for
    what is written to files and logs."""
    return re.sub(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]*@", r"\1", text)


def os_error_line(e):
    """One line for an OSError: the file, what went wrong, and what to do."""
    where = f" {e.filename}" if e.filename else ""
    fixes = {errno.ENOSPC: "the disk is full: free some space (or pass an --out_dir on another disk) and run "
                           "the same command again; the files already written are whole",
             errno.EDQUOT: "the disk quota is used up: free some space and run the same command again",
             errno.EFBIG: "the file is larger than this system lets a process write (ulimit -f)",
             errno.EACCES: "no permission: check the folder's permissions, or pass another --out_dir",
             errno.EPERM: "no permission: check the folder's permissions, or pass another --out_dir",
             errno.EROFS: "the disk is read-only: pass an --out_dir on a writable disk"}
    return f"cannot use{where}: {e.strerror or e}" + (f"; {fixes[e.errno]}" if e.errno in fixes else "")


def remove_stale_temp_files(folder):
    """Delete the temp files write_atomic leaves when a process is killed mid-write (kill -9, power loss);
    call it only while holding the folder's lock. Returns how many bytes were freed."""
    freed = 0
    for name in os.listdir(folder) if os.path.isdir(folder) else ():
        if re.fullmatch(r"\..+\.[a-z0-9_]{8}\.tmp", name):  # mkstemp's 8 random characters
            path = os.path.join(folder, name)
            with contextlib.suppress(OSError):
                size = os.path.getsize(path)
                os.remove(path)
                freed += size
    return freed


def _pid_alive(pid):
    if os.name == "nt":  # os.kill(pid, 0) would send Ctrl-C there: assume alive, the message says what to do
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


@contextlib.contextmanager
def folder_lock(folder, log=print):
    """Hold folder for this process (one run per folder): a lock file with our pid. A live holder is refused
    at once, naming its pid; a lock whose process is gone is taken over, saying so."""
    path = os.path.join(folder, ".lock")
    for attempt in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            try:
                with open(path) as f:
                    pid = int(f.read().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if attempt or pid and pid != os.getpid() and _pid_alive(pid):
                raise UserError(f"{folder} is in use by another run (pid {pid}); wait for it to end or stop it, "
                                f"or pass another --out_dir (if no run is using it, delete {path})") from None
            if pid != os.getpid():
                log(f"taking over {path}: the run that held it (pid {pid}) is no longer running")
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
    with os.fdopen(fd, "w") as f:
        f.write(str(os.getpid()))
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.remove(path)


def available_memory_bytes():
    """Memory this process can still take: the smaller of what the OS has available (/proc/meminfo) and what
    is left under a container's limit (cgroup v2 or v1). None where neither can be read (not Linux)."""
    found = []
    with contextlib.suppress(OSError, ValueError, StopIteration):
        with open("/proc/meminfo") as f:
            found.append(int(next(line for line in f if line.startswith("MemAvailable:")).split()[1]) * 1024)
    for limit, usage in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                         ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        with contextlib.suppress(OSError, ValueError):
            with open(limit) as f, open(usage) as g:
                found.append(int(f.read()) - int(g.read()))  # 'max' (no limit) is a ValueError
    return min(found) if found else None


class Terminated(KeyboardInterrupt):
    """SIGTERM (timeout, docker stop, Kubernetes, Slurm): handled where Ctrl-C is, so work is saved the same
    way; the script then exits with 143, the code a process ended by SIGTERM reports."""


def _raise_terminated(signum, frame):
    raise Terminated


def exit_code(interrupt):
    return 143 if isinstance(interrupt, Terminated) else 130


def exit_interrupted(interrupt):
    """Exit with the code of the signal that stopped us. Further signals are ignored from here: Python puts
    the default handlers back while it shuts down (torch takes a moment), so a second Ctrl-C would otherwise
    kill the process silently with no exit code of ours."""
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, signal.SIG_IGN)
    sys.exit(exit_code(interrupt))


@contextlib.contextmanager
def signals_deferred(message):
    """Ctrl-C and SIGTERM wait until the block ends (a checkpoint being saved): each prints message instead."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in old:
        signal.signal(s, lambda signum, frame: print(message, file=sys.stderr, flush=True))
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def run_command(main, argv):
    """How every Text2GPT1 script ends: a UserError is one line on stderr (exit 1), Ctrl-C or Ctrl-D is
    'interrupted' (exit 130), SIGTERM 'terminated' (exit 143), never a traceback. Long steps save their
    work before this point."""
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        main(argv)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    except OSError as e:  # a full disk, no permission, a read-only folder
        print(f"error: {os_error_line(e)}", file=sys.stderr)
        sys.exit(1)
    except (KeyboardInterrupt, EOFError) as e:
        print("\nterminated" if isinstance(e, Terminated) else "\ninterrupted", file=sys.stderr)
        exit_interrupted(e)
