"""
What every Text2GPT1 file shares, and nothing else: the error a user can fix, the atomic file writer and
the folder lock, and how every script ends (Ctrl-C and SIGTERM included). It imports nothing of ours, so
any file can import it.
"""
import contextlib
import os
import re
import signal
import sys
import tempfile
import threading


class UserError(Exception):
    """A problem the user can fix; the message is one sentence naming the thing and the fix."""


def write_atomic(path, data):
    """Write str, bytes, or whatever data(file) writes, to path via a temp file in the same folder and a
    rename, so a crash never leaves half a file."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


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


class Terminated(KeyboardInterrupt):
    """SIGTERM (timeout, docker stop, Kubernetes, Slurm): handled where Ctrl-C is, so work is saved the same
    way; the script then exits with 143, the code a process ended by SIGTERM reports."""


def _raise_terminated(signum, frame):
    raise Terminated


def exit_code(interrupt):
    return 143 if isinstance(interrupt, Terminated) else 130


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
    except (KeyboardInterrupt, EOFError) as e:
        print("\nterminated" if isinstance(e, Terminated) else "\ninterrupted", file=sys.stderr)
        sys.exit(exit_code(e))
